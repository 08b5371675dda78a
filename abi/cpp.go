package abi

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The lexer and the small preprocessor behind ParseC. They cover what
// headers that declare data use: comments, line splices, object- and
// function-like macros (# and ## included), #if/#ifdef/#elif/#else/#endif
// with defined(), #include of the standard headers whose types sprig
// knows and of other files next to the one being read, #undef, #error,
// and #pragma (all but pack are ignored). A function-like macro's call
// may span lines. What would make one declaration differ between ABIs is
// refused rather than guessed: a condition on an undefined macro that
// compilers predefine per target (__LP64__, __x86_64__; cmacros.go lists
// them) and #pragma pack.

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tChar
	tString
	tPunct
)

type token struct {
	kind tokKind
	text string
	pos  string // file:line, for messages
	hide map[string]bool
	// space tells that white space preceded the token (for # in macros).
	space bool
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of input"
	}
	return strconv.Quote(t.text)
}

// lex splits src into tokens, one slice per logical line so the
// preprocessor can see directives. Comments become white space and
// backslash-newlines vanish.
func lex(file string, src []byte) ([][]token, error) {
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	var lines [][]token
	var cur []token
	line := 1
	space := false
	i := 0
	at := func() string { return fmt.Sprintf("%s:%d", file, line) }
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
			line++
			continue
		case c == '\n':
			lines = append(lines, cur)
			cur = nil
			line++
			i++
			space = false
			continue
		case c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r':
			i++
			space = true
			continue
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("%s: unterminated comment", at())
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
			space = true
			continue
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == '\n' {
					line++
					i++
				}
				i++
			}
			space = true
			continue
		}
		start := i
		var k tokKind
		switch {
		case isIdentStart(c):
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			k = tIdent
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.' || (s[i] == '+' || s[i] == '-') && (s[i-1] == 'e' || s[i-1] == 'E' || s[i-1] == 'p' || s[i-1] == 'P')) {
				i++
			}
			k = tNumber
		case c == '\'' || c == '"':
			i++
			for i < len(s) && s[i] != c {
				if s[i] == '\\' {
					i++
				}
				if i < len(s) && s[i] == '\n' {
					return nil, fmt.Errorf("%s: unterminated literal", at())
				}
				i++
			}
			if i >= len(s) {
				return nil, fmt.Errorf("%s: unterminated literal", at())
			}
			i++
			k = tChar
			if c == '"' {
				k = tString
			}
		default:
			k = tPunct
			i++
			for _, p := range []string{"...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##"} {
				if strings.HasPrefix(s[start:], p) {
					i = start + len(p)
					break
				}
			}
		}
		cur = append(cur, token{kind: k, text: s[start:i], pos: at(), space: space})
		space = false
	}
	lines = append(lines, cur)
	return lines, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

type macro struct {
	params   []string
	function bool
	variadic bool
	body     []token
}

// knownHeaders are the standard headers whose declarations sprig builds
// in (their typedefs are in typedefNames), so including one is a no-op.
var knownHeaders = map[string]bool{
	"stdint.h": true, "stddef.h": true, "stdbool.h": true, "inttypes.h": true,
	"sys/types.h": false, // NetBSD's: its typedefs must be declared (see ParseC)
	"sys/cdefs.h": true, "stdalign.h": true, "limits.h": true,
}

// cdefs are sys/cdefs.h's and the standard headers' macros that change
// declarations, predefined for every source.
const cdefs = `
#define __BEGIN_DECLS
#define __END_DECLS
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __unused __attribute__((__unused__))
#define __dead
#define __pure
#define __restrict restrict
#define __inline inline
#define __RENAME(x)
#define __CONCAT(x,y) x ## y
#define __STRING(x) #x
#define alignas _Alignas
#define true 1
#define false 0
#define NULL 0
#define __CHAR_BIT__ 8
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#define __STDC__ 1
#define __STDC_VERSION__ 201710L
`

type preproc struct {
	macros map[string]*macro
	// own are the names a #define or #undef has named so far: the
	// source's, whoever else predefines them (see cmacros.go).
	own     map[string]bool
	guard   bool // the #ifndef being read is an include guard's
	out     []token
	depth   int
	readDir func(string) ([]byte, string, error) // for #include "x"
}

// run preprocesses one file's lines into p.out.
func (p *preproc) run(file string, src []byte, dir string) error {
	if p.depth++; p.depth > 32 {
		return fmt.Errorf("%s: #include nested too deeply", file)
	}
	defer func() { p.depth-- }()
	lines, err := lex(file, src)
	if err != nil {
		return err
	}
	type cond struct{ active, taken, elseSeen, parentActive bool }
	var stack []cond
	active := func() bool { return len(stack) == 0 || stack[len(stack)-1].active }
	for k := 0; k < len(lines); k++ {
		ln := lines[k]
		if len(ln) == 0 {
			continue
		}
		if !isDirective(ln) {
			if active() {
				// A macro call's arguments may run on over the
				// following lines: take them in until it closes.
				exp, err := p.expand(ln)
				for errors.Is(err, errOpenCall) && k+1 < len(lines) && !isDirective(lines[k+1]) {
					k++
					ln = append(ln[:len(ln):len(ln)], lines[k]...)
					exp, err = p.expand(ln)
				}
				if errors.Is(err, errOpenCall) && k+1 < len(lines) {
					return fmt.Errorf("%w at the directive on %s (sprig takes no directives inside a macro call)", err, lines[k+1][0].pos)
				}
				if err != nil {
					return err
				}
				p.out = append(p.out, exp...)
			}
			continue
		}
		if len(ln) == 1 {
			continue // a null directive
		}
		d, rest := ln[1], ln[2:]
		switch d.text {
		case "if", "ifdef", "ifndef":
			c := cond{parentActive: active()}
			if c.parentActive {
				p.guard = d.text == "ifndef" && len(rest) > 0 && guardFollows(rest[0].text, lines[k+1:])
				v, err := p.condition(d, rest)
				p.guard = false
				if err != nil {
					return err
				}
				c.active, c.taken = v, v
			}
			stack = append(stack, c)
			continue
		case "elif", "else", "endif":
			if len(stack) == 0 {
				return fmt.Errorf("%s: #%s without #if", d.pos, d.text)
			}
			c := &stack[len(stack)-1]
			switch d.text {
			case "endif":
				stack = stack[:len(stack)-1]
			case "else":
				if c.elseSeen {
					return fmt.Errorf("%s: #else after #else", d.pos)
				}
				c.elseSeen = true
				c.active = c.parentActive && !c.taken
				c.taken = c.taken || c.active
			case "elif":
				if c.elseSeen {
					return fmt.Errorf("%s: #elif after #else", d.pos)
				}
				c.active = false
				if c.parentActive && !c.taken {
					v, err := p.condition(token{text: "if", pos: d.pos}, rest)
					if err != nil {
						return err
					}
					c.active, c.taken = v, v
				}
			}
			continue
		}
		if !active() {
			continue
		}
		switch d.text {
		case "define":
			if err := p.define(d, rest); err != nil {
				return err
			}
		case "undef":
			if len(rest) != 1 || rest[0].kind != tIdent {
				return fmt.Errorf("%s: #undef wants one name", d.pos)
			}
			delete(p.macros, rest[0].text)
			p.own[rest[0].text] = true
		case "include", "include_next":
			if err := p.include(d, rest, dir); err != nil {
				return err
			}
		case "error":
			return fmt.Errorf("%s: #error%s", d.pos, joinTokens(rest))
		case "pragma":
			if len(rest) > 0 && rest[0].text == "pack" {
				return fmt.Errorf("%s: #pragma pack is not supported; use __attribute__((packed)) or aligned(N)", d.pos)
			}
		case "warning", "line", "ident", "sccs":
		default:
			return fmt.Errorf("%s: unknown directive #%s", d.pos, d.text)
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("%s: #if without #endif", file)
	}
	return nil
}

func isDirective(ln []token) bool {
	return len(ln) > 0 && ln[0].kind == tPunct && ln[0].text == "#"
}

// guardFollows tells whether the first line with tokens among lines is
// #define name: #ifndef name before it is an include guard (or a default
// the source supplies), and name is the source's.
func guardFollows(name string, lines [][]token) bool {
	for _, ln := range lines {
		if len(ln) == 0 {
			continue
		}
		return len(ln) >= 3 && isDirective(ln) && ln[1].text == "define" && ln[2].text == name
	}
	return false
}

func joinTokens(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(" " + t.text)
	}
	return b.String()
}

func (p *preproc) define(d token, rest []token) error {
	if len(rest) == 0 || rest[0].kind != tIdent {
		return fmt.Errorf("%s: #define wants a name", d.pos)
	}
	name := rest[0].text
	m := &macro{}
	body := rest[1:]
	if len(body) > 0 && body[0].text == "(" && !body[0].space {
		m.function = true
		i := 1
		for ; i < len(body) && body[i].text != ")"; i++ {
			switch t := body[i]; {
			case t.text == ",":
			case t.text == "...":
				m.variadic = true
				m.params = append(m.params, "__VA_ARGS__")
			case t.kind == tIdent:
				m.params = append(m.params, t.text)
			default:
				return fmt.Errorf("%s: bad parameter %s of macro %s", t.pos, t, name)
			}
		}
		if i == len(body) {
			return fmt.Errorf("%s: unterminated parameter list of macro %s", d.pos, name)
		}
		body = body[i+1:]
	}
	m.body = body
	p.macros[name] = m
	p.own[name] = true
	return nil
}

func (p *preproc) include(d token, rest []token, dir string) error {
	if len(rest) == 0 {
		return fmt.Errorf("%s: #include wants a file", d.pos)
	}
	var name string
	local := false
	switch {
	case rest[0].kind == tString:
		name, local = rest[0].text[1:len(rest[0].text)-1], true
	case rest[0].text == "<":
		for _, t := range rest[1:] {
			if t.text == ">" {
				break
			}
			name += t.text
		}
	default:
		return fmt.Errorf("%s: #include %s: want <file> or \"file\"", d.pos, rest[0])
	}
	if known, ok := knownHeaders[name]; ok && known {
		return nil
	}
	if local && p.readDir != nil {
		data, path, err := p.readDir(filepath.Join(dir, name))
		if err == nil {
			return p.run(path, data, filepath.Dir(path))
		}
	}
	return fmt.Errorf("%s: cannot include %s: sprig reads only the declarations given to it, files next to the header (\"x.h\"), and the standard headers it knows (stdint.h, stddef.h, stdbool.h, inttypes.h, sys/cdefs.h); declare what %s would provide, such as NetBSD's typedefs", d.pos, name, name)
}

// condition evaluates the expression of #if, #ifdef or #ifndef.
func (p *preproc) condition(d token, rest []token) (bool, error) {
	if d.text == "ifdef" || d.text == "ifndef" {
		if len(rest) == 0 || rest[0].kind != tIdent {
			return false, fmt.Errorf("%s: #%s wants a name", d.pos, d.text)
		}
		if err := p.checkNeutral(rest[0]); err != nil {
			return false, err
		}
		_, def := p.macros[rest[0].text]
		return def == (d.text == "ifdef"), nil
	}
	// defined X and defined(X) first, before macro expansion.
	var ts []token
	for i := 0; i < len(rest); i++ {
		t := rest[i]
		if t.kind == tIdent && t.text == "defined" {
			var name token
			switch {
			case i+1 < len(rest) && rest[i+1].text == "(" && i+3 < len(rest) && rest[i+3].text == ")":
				name, i = rest[i+2], i+3
			case i+1 < len(rest) && rest[i+1].kind == tIdent:
				name, i = rest[i+1], i+1
			default:
				return false, fmt.Errorf("%s: bad defined in #if", t.pos)
			}
			if err := p.checkNeutral(name); err != nil {
				return false, err
			}
			v := "0"
			if _, ok := p.macros[name.text]; ok {
				v = "1"
			}
			ts = append(ts, token{kind: tNumber, text: v, pos: t.pos})
			continue
		}
		ts = append(ts, t)
	}
	exp, err := p.expand(ts)
	if err != nil {
		return false, err
	}
	for i, t := range exp {
		if t.kind == tIdent {
			if err := p.checkNeutral(t); err != nil {
				return false, err
			}
			exp[i] = token{kind: tNumber, text: "0", pos: t.pos} // undefined names are 0
		}
	}
	e := &exprParser{toks: exp, pos: d.pos}
	v, err := e.parse()
	if err != nil {
		return false, err
	}
	return v != 0, nil
}

// checkNeutral refuses a test of an undefined macro that a compiler
// predefines per target (__LP64__, __x86_64__, __BYTE_ORDER__) or that
// machines' headers define per ABI (__BITS_PER_LONG, unless the test is
// #ifndef X followed by #define X, which supplies it), unless the source
// has defined or #undef'd it before: sprig parses one declaration for
// every ABI. Every other name is the source's (cmacros.go says why).
func (p *preproc) checkNeutral(t token) error {
	if _, ok := p.macros[t.text]; ok || p.own[t.text] {
		return nil
	}
	if compilerMacro(t.text) {
		return fmt.Errorf("%s: the condition tests %s, a compiler macro that differs between ABIs; sprig reads one declaration for every ABI, so write the declaration without it", t.pos, t.text)
	}
	if machineMacros[t.text] && !p.guard {
		return fmt.Errorf("%s: the condition tests %s, a machine header's macro that differs between ABIs; sprig reads one declaration for every ABI, so define it in the source or write the declaration without it", t.pos, t.text)
	}
	return nil
}

// expand macro-expands a line.
func (p *preproc) expand(ts []token) ([]token, error) {
	var out []token
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		m, ok := p.macros[t.text]
		if t.kind != tIdent || !ok || t.hide[t.text] {
			out = append(out, t)
			continue
		}
		hide := map[string]bool{t.text: true}
		for k := range t.hide {
			hide[k] = true
		}
		var body []token
		if m.function {
			if i+1 >= len(ts) || ts[i+1].text != "(" {
				out = append(out, t)
				continue
			}
			args, end, err := splitArgs(ts, i+1)
			if err != nil {
				return nil, fmt.Errorf("%s: macro %s: %w", t.pos, t.text, err)
			}
			i = end
			if len(args) == 1 && len(args[0]) == 0 && len(m.params) == 0 {
				args = nil
			}
			if m.variadic && len(args) >= len(m.params) {
				last := len(m.params) - 1
				var va []token
				for j, a := range args[last:] {
					if j > 0 {
						va = append(va, token{kind: tPunct, text: ","})
					}
					va = append(va, a...)
				}
				args = append(args[:last], va)
			}
			if len(args) != len(m.params) && !(m.variadic && len(args) == len(m.params)-1) {
				return nil, fmt.Errorf("%s: macro %s wants %d arguments, got %d", t.pos, t.text, len(m.params), len(args))
			}
			body, err = p.substitute(m, args)
			if err != nil {
				return nil, fmt.Errorf("%s: macro %s: %w", t.pos, t.text, err)
			}
		} else {
			body = append([]token(nil), m.body...)
		}
		for j := range body {
			body[j].pos = t.pos
			h := map[string]bool{}
			for k := range hide {
				h[k] = true
			}
			for k := range body[j].hide {
				h[k] = true
			}
			body[j].hide = h
		}
		exp, err := p.expand(body)
		if err != nil {
			return nil, err
		}
		out = append(out, exp...)
	}
	return out, nil
}

// splitArgs reads a macro call's arguments from the '(' at ts[open] and
// returns them with the index of the closing ')'.
func splitArgs(ts []token, open int) ([][]token, int, error) {
	var args [][]token
	var cur []token
	depth := 0
	for i := open + 1; i < len(ts); i++ {
		t := ts[i]
		switch t.text {
		case "(":
			depth++
		case ")":
			if depth == 0 {
				return append(args, cur), i, nil
			}
			depth--
		case ",":
			if depth == 0 {
				args = append(args, cur)
				cur = nil
				continue
			}
		}
		cur = append(cur, t)
	}
	return nil, 0, errOpenCall
}

// errOpenCall is a macro call whose argument list the line leaves open;
// run joins the next line and expands again.
var errOpenCall = errors.New("unterminated argument list")

// substitute puts arguments into a function-like macro's body, with #
// (stringize) and ## (paste).
func (p *preproc) substitute(m *macro, args [][]token) ([]token, error) {
	param := func(name string) int {
		for i, n := range m.params {
			if n == name {
				return i
			}
		}
		return -1
	}
	var out []token
	for i := 0; i < len(m.body); i++ {
		t := m.body[i]
		switch {
		case t.text == "#" && i+1 < len(m.body) && param(m.body[i+1].text) >= 0:
			a := args[param(m.body[i+1].text)]
			var s []string
			for _, x := range a {
				s = append(s, x.text)
			}
			out = append(out, token{kind: tString, text: strconv.Quote(strings.Join(s, " "))})
			i++
		case t.text == "##" && len(out) > 0 && i+1 < len(m.body):
			next := m.body[i+1]
			right := []token{next}
			if k := param(next.text); k >= 0 {
				right = args[k]
			}
			i++
			if len(right) == 0 {
				continue
			}
			left := out[len(out)-1]
			pasted := left.text + right[0].text
			lines, err := lex("paste", []byte(pasted))
			if err != nil || len(lines) != 1 || len(lines[0]) != 1 {
				return nil, fmt.Errorf("## makes %q, not one token", pasted)
			}
			out[len(out)-1] = lines[0][0]
			out = append(out, right[1:]...)
		case t.kind == tIdent && param(t.text) >= 0:
			a := args[param(t.text)]
			if i+1 < len(m.body) && m.body[i+1].text == "##" {
				out = append(out, a...) // pasted raw
				continue
			}
			exp, err := p.expand(a)
			if err != nil {
				return nil, err
			}
			out = append(out, exp...)
		default:
			out = append(out, t)
		}
	}
	return out, nil
}

func readSourceFile(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	return data, path, err
}
