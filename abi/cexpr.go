package abi

import (
	"fmt"
	"strconv"
	"strings"
)

// exprParser evaluates C integer constant expressions: the operators of
// C with their precedence, integer and character constants, names a
// resolver knows (enumerators), and sizeof(T) and _Alignof(T) through
// sizeOf, which refuses a T whose measure differs between ABIs (a
// declaration is parsed once for all). __alignof__ and offsetof are
// refused.
type exprParser struct {
	toks    []token
	i       int
	pos     string
	resolve func(name string) (int64, bool)
	// typeName, when set, recognises the start of a cast's type name.
	typeName func(t token) bool
	// sizeOf, when set, evaluates sizeof, _Alignof or alignof (op) of
	// the type name in toks.
	sizeOf func(op token, toks []token) (int64, error)
}

func (e *exprParser) peek() token {
	if e.i < len(e.toks) {
		return e.toks[e.i]
	}
	return token{kind: tEOF, pos: e.pos}
}

func (e *exprParser) peekAt(k int) token {
	if e.i+k < len(e.toks) {
		return e.toks[e.i+k]
	}
	return token{kind: tEOF, pos: e.pos}
}

func (e *exprParser) next() token { t := e.peek(); e.i++; return t }

func (e *exprParser) errf(t token, format string, a ...any) error {
	pos := t.pos
	if pos == "" {
		pos = e.pos
	}
	return fmt.Errorf("%s: %s", pos, fmt.Sprintf(format, a...))
}

// parse evaluates the whole token list.
func (e *exprParser) parse() (int64, error) {
	v, err := e.cond()
	if err != nil {
		return 0, err
	}
	if t := e.peek(); t.kind != tEOF {
		return 0, e.errf(t, "unexpected %s in a constant expression", t)
	}
	return v, nil
}

func (e *exprParser) cond() (int64, error) {
	c, err := e.binary(0)
	if err != nil || e.peek().text != "?" {
		return c, err
	}
	e.next()
	a, err := e.cond()
	if err != nil {
		return 0, err
	}
	if t := e.next(); t.text != ":" {
		return 0, e.errf(t, "want : in a conditional expression, got %s", t)
	}
	b, err := e.cond()
	if err != nil {
		return 0, err
	}
	if c != 0 {
		return a, nil
	}
	return b, nil
}

var binaryPrec = map[string]int{
	"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
	"<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}

func (e *exprParser) binary(min int) (int64, error) {
	l, err := e.unary()
	if err != nil {
		return 0, err
	}
	for {
		op := e.peek()
		prec, ok := binaryPrec[op.text]
		if op.kind != tPunct || !ok || prec <= min {
			return l, nil
		}
		e.next()
		r, err := e.binary(prec)
		if err != nil {
			return 0, err
		}
		b2i := func(b bool) int64 {
			if b {
				return 1
			}
			return 0
		}
		switch op.text {
		case "||":
			l = b2i(l != 0 || r != 0)
		case "&&":
			l = b2i(l != 0 && r != 0)
		case "|":
			l |= r
		case "^":
			l ^= r
		case "&":
			l &= r
		case "==":
			l = b2i(l == r)
		case "!=":
			l = b2i(l != r)
		case "<":
			l = b2i(l < r)
		case ">":
			l = b2i(l > r)
		case "<=":
			l = b2i(l <= r)
		case ">=":
			l = b2i(l >= r)
		case "<<":
			if r < 0 || r > 63 {
				return 0, e.errf(op, "shift by %d", r)
			}
			l <<= uint(r)
		case ">>":
			if r < 0 || r > 63 {
				return 0, e.errf(op, "shift by %d", r)
			}
			l >>= uint(r)
		case "+":
			l += r
		case "-":
			l -= r
		case "*":
			l *= r
		case "/", "%":
			if r == 0 {
				return 0, e.errf(op, "division by zero")
			}
			if op.text == "/" {
				l /= r
			} else {
				l %= r
			}
		}
	}
}

func (e *exprParser) unary() (int64, error) {
	t := e.next()
	switch {
	case t.kind == tPunct && (t.text == "-" || t.text == "+" || t.text == "~" || t.text == "!"):
		v, err := e.unary()
		if err != nil {
			return 0, err
		}
		switch t.text {
		case "-":
			return -v, nil
		case "~":
			return ^v, nil
		case "!":
			if v == 0 {
				return 1, nil
			}
			return 0, nil
		}
		return v, nil
	case t.text == "(":
		if e.typeName != nil && e.typeName(e.peek()) {
			// A cast: skip the type name; the value stays (sprig's
			// constants are small enough for every integer type).
			depth := 0
			for {
				c := e.next()
				if c.kind == tEOF {
					return 0, e.errf(t, "unterminated cast")
				}
				if c.text == "(" {
					depth++
				}
				if c.text == ")" {
					if depth == 0 {
						break
					}
					depth--
				}
			}
			return e.unary()
		}
		v, err := e.cond()
		if err != nil {
			return 0, err
		}
		if c := e.next(); c.text != ")" {
			return 0, e.errf(c, "want ), got %s", c)
		}
		return v, nil
	case t.kind == tNumber:
		return parseIntLiteral(t)
	case t.kind == tChar:
		return parseCharLiteral(t)
	case t.kind == tIdent && (t.text == "sizeof" || t.text == "_Alignof" || t.text == "alignof") && e.sizeOf != nil:
		if e.peek().text != "(" || e.typeName == nil || !e.typeName(e.peekAt(1)) {
			return 0, e.errf(t, "%s of an expression: sprig evaluates %s(type) only; write the number", t.text, t.text)
		}
		open := e.next()
		start, depth := e.i, 0
		for {
			c := e.next()
			if c.kind == tEOF {
				return 0, e.errf(open, "unterminated %s(", t.text)
			}
			if c.text == "(" {
				depth++
			}
			if c.text == ")" {
				if depth == 0 {
					break
				}
				depth--
			}
		}
		return e.sizeOf(t, e.toks[start:e.i-1])
	case t.kind == tIdent && (t.text == "__alignof__" || t.text == "__alignof"):
		return 0, e.errf(t, "%s in a declaration: it is GCC's preferred alignment, which differs between ABIs and from the in-struct one (i386: __alignof__(long long) is 8, _Alignof 4); write _Alignof(type) or the number", t.text)
	case t.kind == tIdent && (t.text == "sizeof" || t.text == "_Alignof" || t.text == "alignof" || t.text == "__builtin_offsetof" || t.text == "offsetof"):
		return 0, e.errf(t, "%s in a declaration: its value differs between ABIs, and sprig reads one declaration for all; write the number", t.text)
	case t.kind == tIdent && e.resolve != nil:
		if v, ok := e.resolve(t.text); ok {
			return v, nil
		}
		return 0, e.errf(t, "%s is not a constant sprig knows", t.text)
	}
	return 0, e.errf(t, "unexpected %s in a constant expression", t)
}

func parseIntLiteral(t token) (int64, error) {
	s := strings.TrimRight(strings.ToLower(t.text), "ul")
	if strings.ContainsAny(s, ".") || (strings.ContainsAny(s, "e") && !strings.HasPrefix(s, "0x")) {
		return 0, fmt.Errorf("%s: %s is not an integer constant", t.pos, t.text)
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"):
		s, base = s[2:], 16
	case strings.HasPrefix(s, "0b"):
		s, base = s[2:], 2
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: bad integer constant %s", t.pos, t.text)
	}
	return int64(v), nil
}

func parseCharLiteral(t token) (int64, error) {
	s, err := strconv.Unquote(t.text)
	if err != nil || len(s) != 1 {
		return 0, fmt.Errorf("%s: unsupported character constant %s", t.pos, t.text)
	}
	return int64(int8(s[0])), nil
}
