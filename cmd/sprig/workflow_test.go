package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// workflow is the part of a GitHub Actions workflow file the test reads.
type workflow struct {
	Name string `yaml:"name"`
	On   any    `yaml:"on"`
	Env  map[string]string
	Jobs map[string]struct {
		Needs    any               `yaml:"needs"`
		If       string            `yaml:"if"`
		Outputs  map[string]string `yaml:"outputs"`
		Strategy struct {
			FailFast *bool  `yaml:"fail-fast"`
			Matrix   string `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Name string            `yaml:"name"`
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			If   string            `yaml:"if"`
			Env  map[string]string `yaml:"env"`
			With map[string]any    `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T) (workflow, string) {
	t.Helper()
	b, err := os.ReadFile("../../.github/workflows/matrix.yml")
	require.NoError(t, err)
	var w workflow
	require.NoError(t, yaml.Unmarshal(b, &w), "matrix.yml is not valid YAML")
	return w, string(b)
}

// shellValues stands in for the variables the workflow's commands use.
var shellValues = strings.NewReplacer(`"$SHARDS"`, "4", `$SHARDS`, "4", `"$SHARD"`, "1/4", `${SHARD%/*}`, "1", `"`, "")

// sprigCommands returns the argument lists of every `sprig matrix` in the
// workflow's run scripts: the words after "sprig matrix", with shell
// variables replaced and redirections and || dropped.
func sprigCommands(w workflow) map[string][][]string {
	out := map[string][][]string{}
	for name, job := range w.Jobs {
		for _, st := range job.Steps {
			for _, line := range strings.Split(st.Run, "\n") {
				i := strings.Index(line, "sprig matrix")
				if i < 0 {
					continue
				}
				cmd := line[i:]
				for _, stop := range []string{" ||", " >", " |", " &&", ";"} {
					cmd, _, _ = strings.Cut(cmd, stop)
				}
				out[name] = append(out[name], strings.Fields(shellValues.Replace(cmd))[2:])
			}
		}
	}
	return out
}

func TestWorkflowIsValidYAMLThatFansTheMatrixOutByShard(t *testing.T) {
	w, text := readWorkflow(t)
	require.Contains(t, w.Jobs, "plan")
	require.Contains(t, w.Jobs, "shard")
	require.Contains(t, w.Jobs, "merge")

	shard := w.Jobs["shard"]
	assert.Equal(t, "plan", shard.Needs)
	assert.Equal(t, "${{ fromJSON(needs.plan.outputs.matrix) }}", shard.Strategy.Matrix)
	require.NotNil(t, shard.Strategy.FailFast)
	assert.False(t, *shard.Strategy.FailFast, "one failing shard must not cancel the others")
	assert.Equal(t, "${{ steps.list.outputs.matrix }}", w.Jobs["plan"].Outputs["matrix"])

	merge := w.Jobs["merge"]
	assert.Equal(t, "shard", merge.Needs)
	assert.Contains(t, merge.If, "always()", "merge runs even when a shard found a disagreement")

	var uploads, downloads []string
	for _, job := range []string{"shard", "merge"} {
		for _, st := range w.Jobs[job].Steps {
			switch {
			case strings.HasPrefix(st.Uses, "actions/upload-artifact@"):
				uploads = append(uploads, job+":"+st.With["name"].(string))
			case strings.HasPrefix(st.Uses, "actions/download-artifact@"):
				downloads = append(downloads, job+":"+st.With["pattern"].(string))
			}
		}
	}
	assert.Contains(t, uploads, "shard:matrix-shard-${{ strategy.job-index }}")
	assert.Equal(t, []string{"merge:matrix-shard-*"}, downloads)
	assert.Contains(t, text, `>> "$GITHUB_STEP_SUMMARY"`)
}

func TestWorkflowCommandsUseRealSprigFlags(t *testing.T) {
	w, text := readWorkflow(t)
	cmds := sprigCommands(w)
	require.NotEmpty(t, cmds["plan"])
	require.NotEmpty(t, cmds["shard"])
	require.NotEmpty(t, cmds["merge"])

	for job, list := range cmds {
		for _, args := range list {
			var out, errb bytes.Buffer
			if len(args) > 0 && args[0] == "merge" {
				fs, _, _ := newMergeFlags()
				files, done, code := parseFlags(fs, args[1:], matrixMergeDoc, &out, &errb)
				assert.False(t, done, "%s: %v: %s (exit %d)", job, args, errb.String(), code)
				assert.NotEmpty(t, files, "%s: %v: merge needs report files", job, args)
				continue
			}
			fs, v := newMatrixFlags()
			pos, done, code := parseFlags(fs, args, matrixDoc, &out, &errb)
			require.False(t, done, "%s: %v: %s (exit %d)", job, args, errb.String(), code)
			assert.Empty(t, pos, "%s: %v", job, args)
			_, code = v.config(&errb)
			assert.Equal(t, exitOK, code, "%s: %v: %s", job, args, errb.String())
		}
	}

	// The plan's list has the keys the jobs read from matrix.*.
	plan := cmds["plan"][0]
	code, out, errOut := sprig(t, append([]string{"matrix"}, plan...)...)
	require.Equal(t, exitOK, code, errOut)
	var list struct {
		Include []map[string]any `json:"include"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list.Include, 4)
	refs := regexp.MustCompile(`\$\{\{[^}]*?\bmatrix\.(\w+)`).FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		assert.Contains(t, list.Include[0], m[1], "the workflow reads matrix.%s", m[1])
	}
}
