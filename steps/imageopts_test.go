package steps

import (
	"reflect"
	"strings"
	"testing"

	"werk/config"
	"werk/engine"
)

// stepFromYML parses a build pipeline whose only step is given as yml lines
// (indented for the steps list) and returns that step.
func stepFromYML(t *testing.T, stepYML string) config.Step {
	t.Helper()
	src := "box: werk-test/busybox:latest\nbuild:\n  steps:\n" + stepYML
	f, err := config.Parse("wercker.yml", []byte(src))
	if err != nil {
		t.Fatalf("parsing yml: %v\n%s", err, src)
	}
	p, err := f.Pipeline("build")
	if err != nil {
		t.Fatalf("pipeline build: %v", err)
	}
	if len(p.Steps) != 1 {
		t.Fatalf("got %d steps, want 1", len(p.Steps))
	}
	return p.Steps[0]
}

func TestInferTarget(t *testing.T) {
	cases := []struct {
		name, repository, registry string
		wantRepo, wantRegistry     string
		wantReason                 string
	}{
		{"docker hub without host", "team/app", "", "docker.io/team/app", "docker.io", "no registry part"},
		{"docker hub official", "app", "", "docker.io/library/app", "docker.io", "no registry part"},
		{"upper case lowered", "Team/App", "", "docker.io/team/app", "docker.io", "no registry part"},
		{"host in repository", "127.0.0.1:5000/team/app", "", "127.0.0.1:5000/team/app", "127.0.0.1:5000", "repository name"},
		{"registry option URL", "team/app", "https://reg.example.com:5000/v2/", "reg.example.com:5000/team/app", "reg.example.com:5000", "registry option"},
		{"registry option host", "team/app", "reg.example.com", "reg.example.com/team/app", "reg.example.com", "registry option"},
		{"registry option docker hub", "team/app", "https://index.docker.io/v1/", "docker.io/team/app", "docker.io", "registry option"},
		{"repository host wins", "quay.io/team/app", "reg.example.com", "quay.io/team/app", "quay.io", "not used"},
		{"same host both", "quay.io/team/app", "https://quay.io/v2/", "quay.io/team/app", "quay.io", "repository name"},
		{"explicit docker.io", "docker.io/team/app", "", "docker.io/team/app", "docker.io", "repository name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := inferTarget(c.repository, c.registry)
			if err != nil {
				t.Fatalf("inferTarget(%q, %q): %v", c.repository, c.registry, err)
			}
			if got.repo.Name() != c.wantRepo {
				t.Errorf("repo = %q, want %q", got.repo.Name(), c.wantRepo)
			}
			if got.registry != c.wantRegistry {
				t.Errorf("registry = %q, want %q", got.registry, c.wantRegistry)
			}
			if !strings.Contains(got.reason, c.wantReason) {
				t.Errorf("reason = %q, want it to contain %q", got.reason, c.wantReason)
			}
		})
	}
}

func TestInferTargetErrors(t *testing.T) {
	cases := []struct{ repository, registry, want string }{
		{"", "", "empty"},
		{"team/app:v1", "", "contains a tag"},
		{"team/app@sha256:" + strings.Repeat("a", 64), "", "contains a tag or digest"},
		{"team//app", "", "invalid repository"},
		{"team/app", "https://", "invalid registry"},
	}
	for _, c := range cases {
		_, err := inferTarget(c.repository, c.registry)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("inferTarget(%q, %q) error = %v, want it to contain %q", c.repository, c.registry, err, c.want)
		}
	}
}

func TestPushTargetRef(t *testing.T) {
	hub, _ := inferTarget("team/app", "")
	if got := hub.ref("v1"); got != "team/app:v1" {
		t.Errorf("Docker Hub ref = %q, want team/app:v1", got)
	}
	private, _ := inferTarget("127.0.0.1:5000/app", "")
	if got := private.ref("v1"); got != "127.0.0.1:5000/app:v1" {
		t.Errorf("private ref = %q, want 127.0.0.1:5000/app:v1", got)
	}
}

func TestParseTags(t *testing.T) {
	got, err := parseTags(" v1, v2  v3,,v1 ")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"v1", "v2", "v3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("parseTags = %q, want %q", got, want)
	}
	got, err = parseTags("")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"latest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("parseTags(\"\") = %q, want %q", got, want)
	}
	for _, bad := range []string{"-v1", ".v1", "v1/x", strings.Repeat("a", 129)} {
		if _, err := parseTags(bad); err == nil {
			t.Errorf("parseTags(%q) passed, want an error", bad)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := parsePorts("80, 443/tcp 53/udp")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"80/tcp", "443/tcp", "53/udp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("parsePorts = %q, want %q", got, want)
	}
	for _, bad := range []string{"http", "0", "70000", "80/icmp"} {
		if _, err := parsePorts(bad); err == nil {
			t.Errorf("parsePorts(%q) passed, want an error", bad)
		}
	}
}

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`/app --name "my app" 'a $HOME'`, []string{"/app", "--name", "my app", "a $HOME"}},
		{`["/app", "--flag=$X"]`, []string{"/app", "--flag=$X"}},
		{`sh -c "echo \"hi\""`, []string{"sh", "-c", `echo "hi"`}},
	}
	for _, c := range cases {
		got, err := parseCommand(c.in)
		if err != nil {
			t.Errorf("parseCommand(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseCommand(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{`["/app",`, `"unclosed`} {
		if _, err := parseCommand(bad); err == nil {
			t.Errorf("parseCommand(%q) passed, want an error", bad)
		}
	}
}

func TestResolveExpandsOptions(t *testing.T) {
	s := stepFromYML(t, `    - internal/docker-push:
        repository: $REPO
        tag: $VERSION, latest
        username: $USER_NAME
        password: "p$${SECRET}"
        env: GREETING="hello $NAME" PRICE=$$5
        labels: org.example.ver=$VERSION "org.example.desc=a b=c"
        ports: $PORT 53/udp
        volumes: /data
        working-dir: /srv
        cmd: /app --version $VERSION
`)
	opts, err := parseImageOptions(s, dockerPushOptions)
	if err != nil {
		t.Fatal(err)
	}
	env := engine.NewEnv()
	env.Set("REPO", "127.0.0.1:5000/team/app")
	env.Set("VERSION", "1.2")
	env.Set("USER_NAME", "ci")
	env.Set("NAME", "world")
	env.Set("PORT", "8080")
	redactor := engine.NewRedactor()
	got, err := opts.resolve(env, redactor)
	if err != nil {
		t.Fatal(err)
	}

	if got.target.repo.Name() != "127.0.0.1:5000/team/app" {
		t.Errorf("repository = %q", got.target.repo.Name())
	}
	if want := []string{"1.2", "latest"}; !reflect.DeepEqual(got.tags, want) {
		t.Errorf("tags = %q, want %q", got.tags, want)
	}
	if got.creds.Username != "ci" {
		t.Errorf("username = %q, want ci", got.creds.Username)
	}
	if got.creds.Password != "p${SECRET}" {
		t.Errorf("password = %q, want p${SECRET} ($$ is a literal $)", got.creds.Password)
	}
	if masked := redactor.Redact("x p${SECRET} y"); masked != "x "+engine.Mask+" y" {
		t.Errorf("redactor did not mask the password: %q", masked)
	}
	if want := []string{"GREETING=hello world", "PRICE=$5"}; !reflect.DeepEqual(got.config.Env, want) {
		t.Errorf("env = %q, want %q", got.config.Env, want)
	}
	if want := map[string]string{"org.example.ver": "1.2", "org.example.desc": "a b=c"}; !reflect.DeepEqual(got.config.Labels, want) {
		t.Errorf("labels = %q, want %q", got.config.Labels, want)
	}
	if want := []string{"8080/tcp", "53/udp"}; !reflect.DeepEqual(got.config.ExposedPorts, want) {
		t.Errorf("ports = %q, want %q", got.config.ExposedPorts, want)
	}
	if want := []string{"/app", "--version", "$VERSION"}; !reflect.DeepEqual(got.config.Cmd, want) {
		t.Errorf("cmd = %q, want %q (cmd is not expanded)", got.config.Cmd, want)
	}
	if got.config.WorkingDir != "/srv" || !reflect.DeepEqual(got.config.Volumes, []string{"/data"}) {
		t.Errorf("working-dir = %q, volumes = %q", got.config.WorkingDir, got.config.Volumes)
	}
}

func TestResolveRejectsBadValues(t *testing.T) {
	cases := []struct{ option, want string }{
		{"labels: novalue", "not of the form label=value"},
		{"env: JUSTNAME", "not of the form NAME=value"},
		{"ports: http", "invalid port"},
		{"tag: v1 -bad", "invalid tag"},
		{"working-dir: relative/dir", "not an absolute path"},
		{"volumes: data", "not an absolute path"},
		{"registry: 'https:// bad'", "invalid registry"},
	}
	for _, c := range cases {
		s := stepFromYML(t, "    - internal/docker-push:\n        repository: team/app\n        "+c.option+"\n")
		opts, err := parseImageOptions(s, dockerPushOptions)
		if err != nil {
			t.Fatalf("%s: %v", c.option, err)
		}
		_, err = opts.resolve(engine.NewEnv(), engine.NewRedactor())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want it to contain %q", c.option, err, c.want)
		}
	}
}

func TestParseImageOptionsChecks(t *testing.T) {
	s := stepFromYML(t, "    - internal/docker-push:\n        repository: team/app\n        tags: v1\n")
	if _, err := parseImageOptions(s, dockerPushOptions); err == nil || !strings.Contains(err.Error(), `no option "tags"`) {
		t.Errorf("unknown option: error = %v, want no option \"tags\"", err)
	}

	s = stepFromYML(t, "    - internal/docker-push:\n        repository: team/app\n        aws-region: eu-west-1\n")
	opts, err := parseImageOptions(s, dockerPushOptions)
	if err != nil {
		t.Fatalf("wercker option: %v", err)
	}
	if len(opts.ignored) != 1 || !strings.HasPrefix(opts.ignored[0], "aws-region") {
		t.Errorf("ignored = %q, want aws-region", opts.ignored)
	}

	s = stepFromYML(t, "    - internal/docker-push:\n        repository: team/app\n        disable-sync: maybe\n")
	if _, err := parseImageOptions(s, dockerPushOptions); err == nil || !strings.Contains(err.Error(), "true or false") {
		t.Errorf("disable-sync: error = %v, want true or false", err)
	}

	s = stepFromYML(t, "    - internal/docker-scratch-push:\n        repository: team/app\n        image-name: built\n")
	if _, err := parseImageOptions(s, scratchPushOptions); err == nil {
		t.Errorf("image-name on scratch-push passed, want an error")
	}
}
