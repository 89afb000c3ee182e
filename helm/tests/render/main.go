// Command render renders a Helm chart the way `helm template` does, with the
// same engine (Go's text/template and the sprig functions) but without helm,
// which cannot be installed on the project's machines.
//
//	render -chart helm/motcua -f values.yaml [-f more.yaml] [-out DIR] [-values-out FILE]
//
// It reproduces what the chart relies on: values merged over values.yaml
// (numbers as float64, as helm reads them through JSON; null deletes a key),
// the built-in objects (.Values, .Release, .Chart, .Capabilities, .Template,
// .Files), helm's own functions (include, tpl, toYaml, fromYaml, toJson,
// required, fail, lookup; env and expandenv removed), missing keys rendering
// empty, the chart's kubeVersion constraint, and the output: each rendered
// template split into its YAML documents, empty ones dropped. It exits
// non-zero with the template's error, as helm does.
//
// Build (GOPATH mode, Debian's packages):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o render ./helm/tests/render
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	var files valueFiles
	chartDir := flag.String("chart", "helm/motcua", "the chart's directory")
	flag.Var(&files, "f", "a values file merged over the chart's values.yaml (repeatable)")
	release := flag.String("release", "motcua", "the release name")
	namespace := flag.String("namespace", "default", "the release namespace")
	kubeVersion := flag.String("kube-version", "v1.29.0", "the Kubernetes version .Capabilities reports")
	upgrade := flag.Bool("upgrade", false, "render as an upgrade rather than an install")
	lint := flag.Bool("lint", false, "as `helm lint` renders: a missing required value is reported, not fatal")
	outDir := flag.String("out", "", "write each document to a file here (default: all to stdout)")
	valuesOut := flag.String("values-out", "", "write the merged values here as JSON (for schema validation)")
	flag.Parse()

	if err := run(*chartDir, files, *release, *namespace, *kubeVersion, *upgrade, *lint, *outDir, *valuesOut); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(chartDir string, files []string, release, namespace, kubeVersion string, upgrade, lint bool, outDir, valuesOut string) error {
	chart, err := readYAMLFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartName, _ := chart["name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml: no name")
	}
	if err := checkKubeVersion(chart, kubeVersion); err != nil {
		return err
	}

	values, err := readYAMLFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, file := range files {
		override, err := readYAMLFile(file)
		if err != nil {
			return err
		}
		values = mergeValues(values, override)
	}
	if valuesOut != "" {
		data, err := json.MarshalIndent(values, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(valuesOut, data, 0o644); err != nil {
			return err
		}
	}

	templates, err := loadTemplates(chartDir, chartName)
	if err != nil {
		return err
	}
	root := template.New("chart")
	root.Funcs(funcMap(root, lint))
	// Helm's default: a missing key renders as nothing rather than failing.
	root.Option("missingkey=zero")
	names := make([]string, 0, len(templates))
	for name, text := range templates {
		names = append(names, name)
		if _, err := root.New(name).Parse(text); err != nil {
			return fmt.Errorf("parse error in %s", strings.TrimPrefix(err.Error(), "template: "))
		}
	}
	sort.Strings(names)

	top := map[string]interface{}{
		"Values":       values,
		"Release":      releaseObject(release, namespace, upgrade),
		"Chart":        chartObject(chart),
		"Capabilities": capabilities(kubeVersion),
		"Files":        loadFiles(chartDir),
		"Subcharts":    map[string]interface{}{},
	}
	basePath := chartName + "/templates"

	var documents []document
	for _, name := range names {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue // partials define templates; they render nothing
		}
		// .Template differs per file: a shallow copy of the top object.
		scope := make(map[string]interface{}, len(top)+1)
		for key, value := range top {
			scope[key] = value
		}
		scope["Template"] = map[string]interface{}{"Name": name, "BasePath": basePath}
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, name, scope); err != nil {
			return cleanError(err)
		}
		rendered := strings.ReplaceAll(out.String(), "<no value>", "")
		if base == "NOTES.txt" {
			documents = append(documents, document{source: name, text: rendered, notes: true})
			continue
		}
		for _, doc := range splitDocuments(rendered) {
			documents = append(documents, document{source: name, text: doc})
		}
	}
	return write(documents, outDir)
}

// document is one rendered YAML document (or the release notes).
type document struct {
	source string
	text   string
	notes  bool
}

var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocuments drops the documents that hold only whitespace or comments,
// as helm does.
func splitDocuments(rendered string) []string {
	var docs []string
	for _, part := range separator.Split(rendered, -1) {
		if hasContent(part) {
			docs = append(docs, strings.TrimSpace(part)+"\n")
		}
	}
	return docs
}

func hasContent(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return true
		}
	}
	return false
}

// write prints the documents like `helm template`, or writes each to a file
// named after its template (NOTES.txt on its own).
func write(documents []document, outDir string) error {
	if outDir == "" {
		for _, doc := range documents {
			if doc.notes {
				continue
			}
			fmt.Printf("---\n# Source: %s\n%s", doc.source, doc.text)
		}
		return nil
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	count := map[string]int{}
	for _, doc := range documents {
		if doc.notes {
			if err := os.WriteFile(filepath.Join(outDir, "NOTES.txt"), []byte(doc.text), 0o644); err != nil {
				return err
			}
			continue
		}
		stem := strings.TrimSuffix(path.Base(doc.source), path.Ext(doc.source))
		count[stem]++
		file := filepath.Join(outDir, fmt.Sprintf("%s-%d.yaml", stem, count[stem]))
		text := fmt.Sprintf("# Source: %s\n%s", doc.source, doc.text)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cleanError shortens text/template's error to helm's form for required
// and fail: "execution error at (motcua/templates/x.yaml:3:4): message",
// the place in the outermost template and the innermost message.
func cleanError(err error) error {
	message := strings.TrimPrefix(err.Error(), "template: ")
	for _, call := range []string{": error calling required: ", ": error calling fail: "} {
		if i := strings.LastIndex(message, call); i >= 0 {
			location := message
			if j := strings.Index(message, ": executing "); j >= 0 {
				location = message[:j]
			}
			return fmt.Errorf("execution error at (%s): %s", location, message[i+len(call):])
		}
	}
	return errors.New(message)
}

// loadTemplates reads every file under templates/, named as helm names them
// ("<chart>/templates/<file>") so that include of .Template.BasePath works.
func loadTemplates(chartDir, chartName string) (map[string]string, error) {
	templates := map[string]string{}
	dir := filepath.Join(chartDir, "templates")
	err := filepath.Walk(dir, func(file string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		ext := filepath.Ext(file)
		if ext != ".yaml" && ext != ".yml" && ext != ".tpl" && ext != ".txt" {
			return nil
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		templates[chartName+"/templates/"+filepath.ToSlash(rel)] = string(data)
		return nil
	})
	return templates, err
}

// readYAMLFile reads a YAML mapping the way helm does: through JSON, so that
// numbers are float64 and keys strings.
func readYAMLFile(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var parsed interface{}
	if err := yaml.Unmarshal(data, &parsed); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if parsed == nil {
		return map[string]interface{}{}, nil
	}
	normalised, err := viaJSON(parsed)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	values, ok := normalised.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", file)
	}
	return values, nil
}

// viaJSON turns YAML's types into JSON's (map[string]interface{}, float64).
func viaJSON(value interface{}) (interface{}, error) {
	data, err := json.Marshal(jsonable(value))
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(data, &out)
	return out, err
}

// jsonable converts the map[interface{}]interface{} that YAML may produce.
func jsonable(value interface{}) interface{} {
	switch v := value.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(v))
		for key, item := range v {
			out[key] = jsonable(item)
		}
		return out
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(v))
		for key, item := range v {
			out[fmt.Sprint(key)] = jsonable(item)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(v))
		for i, item := range v {
			out[i] = jsonable(item)
		}
		return out
	default:
		return v
	}
}

// mergeValues merges override into base like helm's coalescing: maps merge
// key by key, anything else replaces, and null removes the key.
func mergeValues(base, override map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(base))
	for key, value := range base {
		out[key] = value
	}
	for key, value := range override {
		if value == nil {
			delete(out, key)
			continue
		}
		baseMap, baseIsMap := out[key].(map[string]interface{})
		overrideMap, overrideIsMap := value.(map[string]interface{})
		if baseIsMap && overrideIsMap {
			out[key] = mergeValues(baseMap, overrideMap)
		} else {
			out[key] = value
		}
	}
	return out
}

func releaseObject(name, namespace string, upgrade bool) map[string]interface{} {
	revision := 1
	if upgrade {
		revision = 2
	}
	return map[string]interface{}{
		"Name":      name,
		"Namespace": namespace,
		"Service":   "Helm",
		"IsInstall": !upgrade,
		"IsUpgrade": upgrade,
		"Revision":  revision,
	}
}

// chartObject gives Chart.yaml's fields helm's capitalised names.
func chartObject(chart map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for key, value := range chart {
		out[strings.ToUpper(key[:1])+key[1:]] = value
	}
	// Helm's field is APIVersion, not ApiVersion.
	if v, ok := out["ApiVersion"]; ok {
		out["APIVersion"] = v
		delete(out, "ApiVersion")
	}
	return out
}

// versionSet is .Capabilities.APIVersions: the API versions the cluster serves.
type versionSet []string

func (s versionSet) Has(apiVersion string) bool {
	for _, v := range s {
		if v == apiVersion {
			return true
		}
	}
	return false
}

type kubeVersion struct {
	Version, Major, Minor, GitVersion string
}

func (k kubeVersion) String() string { return k.Version }

type capabilitiesObject struct {
	APIVersions versionSet
	KubeVersion kubeVersion
}

func capabilities(version string) capabilitiesObject {
	v := semver.MustParse(version)
	return capabilitiesObject{
		// The built-in APIs the chart may ask about; CRDs are not assumed.
		APIVersions: versionSet{
			"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v2",
			"networking.k8s.io/v1", "networking.k8s.io/v1/Ingress",
			"autoscaling/v2/HorizontalPodAutoscaler", "policy/v1/PodDisruptionBudget",
		},
		KubeVersion: kubeVersion{
			Version:    "v" + v.String(),
			Major:      fmt.Sprint(v.Major()),
			Minor:      fmt.Sprint(v.Minor()),
			GitVersion: "v" + v.String(),
		},
	}
}

// checkKubeVersion refuses a Kubernetes version outside Chart.yaml's
// kubeVersion, as helm does.
func checkKubeVersion(chart map[string]interface{}, version string) error {
	constraint, _ := chart["kubeVersion"].(string)
	if constraint == "" {
		return nil
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return fmt.Errorf("Chart.yaml kubeVersion %q: %v", constraint, err)
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return fmt.Errorf("kube version %q: %v", version, err)
	}
	if !c.Check(v) {
		return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", constraint, version)
	}
	return nil
}

// files is .Files: the chart's files outside templates/.
type files map[string][]byte

func (f files) Get(name string) string      { return string(f[name]) }
func (f files) GetBytes(name string) []byte { return f[name] }
func (f files) Lines(name string) []string {
	return strings.Split(strings.TrimSuffix(string(f[name]), "\n"), "\n")
}

func loadFiles(chartDir string) files {
	out := files{}
	_ = filepath.Walk(chartDir, func(file string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chartDir, file)
		if info.IsDir() {
			if rel == "templates" {
				return filepath.SkipDir
			}
			return nil
		}
		if data, err := os.ReadFile(file); err == nil {
			out[filepath.ToSlash(rel)] = data
		}
		return nil
	})
	return out
}

// funcMap is sprig's functions plus helm's, as helm's engine builds it.
func funcMap(root *template.Template, lint bool) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	// Helm removes these: a chart must not read the machine's environment.
	delete(funcs, "env")
	delete(funcs, "expandenv")

	funcs["include"] = func(name string, data interface{}) (string, error) {
		var out bytes.Buffer
		err := root.ExecuteTemplate(&out, name, data)
		return out.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var out bytes.Buffer
		if err := t.Execute(&out, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(out.String(), "<no value>", ""), nil
	}
	funcs["required"] = func(message string, value interface{}) (interface{}, error) {
		missing := value == nil
		if s, ok := value.(string); ok && s == "" {
			missing = true
		}
		if !missing {
			return value, nil
		}
		// helm lint renders the chart's defaults, which may leave required
		// values out: it reports them and goes on.
		if lint {
			fmt.Fprintf(os.Stderr, "[INFO] Missing required value: %s\n", message)
			return "", nil
		}
		return value, errors.New(message)
	}
	funcs["fail"] = func(message string) (string, error) { return "", errors.New(message) }
	// No cluster here: helm template's lookup finds nothing too.
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["toYaml"] = func(value interface{}) string {
		out, err := toYAML(value)
		if err != nil {
			return "" // helm's toYaml swallows the error too
		}
		return out
	}
	funcs["mustToYaml"] = toYAML
	funcs["fromYaml"] = func(text string) map[string]interface{} {
		var parsed interface{}
		if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		normalised, err := viaJSON(parsed)
		if err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		m, _ := normalised.(map[string]interface{})
		if m == nil {
			m = map[string]interface{}{}
		}
		return m
	}
	funcs["toJson"] = func(value interface{}) string {
		data, err := json.Marshal(value)
		if err != nil {
			return ""
		}
		return string(data)
	}
	funcs["fromJson"] = func(text string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(text), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	return funcs
}

// toYAML writes a value as helm's toYaml does: through JSON (so an integral
// float64 prints as 1048576, not 1.048576e+06), keys sorted, no trailing
// newline.
func toYAML(value interface{}) (string, error) {
	normalised, err := viaJSON(value)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	encoder := yaml.NewEncoder(&out)
	encoder.SetIndent(2)
	if err := encoder.Encode(integral(normalised)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}

// integral turns whole float64s into int64s, as JSON writes them.
func integral(value interface{}) interface{} {
	switch v := value.(type) {
	case map[string]interface{}:
		for key, item := range v {
			v[key] = integral(item)
		}
		return v
	case []interface{}:
		for i, item := range v {
			v[i] = integral(item)
		}
		return v
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
		return v
	default:
		return v
	}
}
