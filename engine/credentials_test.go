package engine

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeDockerConfig writes config.json with content into a new directory and
// returns the directory.
func writeDockerConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// installFakeHelper puts docker-credential-NAME on PATH. For the server
// 127.0.0.1:5999 it returns the user helper-user with the secret
// helper-secret; for any other server it replies as a helper with no stored
// credential does.
func installFakeHelper(t *testing.T, name string) {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
read server
if [ "$1" = get ] && [ "$server" = "127.0.0.1:5999" ]; then
  printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}\n' "$server"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
`
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestResolveCredentialsStepWins(t *testing.T) {
	dir := writeDockerConfig(t, `{"credHelpers":{"127.0.0.1:5999":"werk-not-installed"}}`)
	got, err := ResolveCredentials("127.0.0.1:5999", Credentials{Username: "u", Password: `it's"$x`}, dir)
	if err != nil {
		t.Fatalf("step credentials must not consult the config: %v", err)
	}
	if got.Username != "u" || got.Password != `it's"$x` || got.Source != "step options" || got.ServerAddress != "127.0.0.1:5999" {
		t.Errorf("got %+v", got)
	}
}

func TestResolveCredentialsAuths(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte(`cfg-user:cfg-"pass`))
	dir := writeDockerConfig(t, `{"auths":{"127.0.0.1:5999":{"auth":"`+auth+`"}}}`)
	got, err := ResolveCredentials("127.0.0.1:5999", Credentials{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "cfg-user" || got.Password != `cfg-"pass` {
		t.Errorf("got user %q password %q", got.Username, got.Password)
	}
	if got.Source != filepath.Join(dir, "config.json") {
		t.Errorf("source = %q, want the config file", got.Source)
	}
}

func TestResolveCredentialsNoConfig(t *testing.T) {
	got, err := ResolveCredentials("127.0.0.1:5999", Credentials{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Anonymous() || got.Source != "none" {
		t.Errorf("got %+v, want anonymous", got)
	}
}

func TestResolveCredentialsHelper(t *testing.T) {
	installFakeHelper(t, "werkfake")
	dir := writeDockerConfig(t, `{"credHelpers":{"127.0.0.1:5999":"werkfake"}}`)
	got, err := ResolveCredentials("127.0.0.1:5999", Credentials{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "helper-user" || got.Password != "helper-secret" || got.Source != "docker-credential-werkfake" {
		t.Errorf("got %+v", got)
	}
}

func TestResolveCredentialsHelperNotFound(t *testing.T) {
	installFakeHelper(t, "werkfake")
	dir := writeDockerConfig(t, `{"credsStore":"werkfake"}`)
	got, err := ResolveCredentials("127.0.0.1:6000", Credentials{}, dir)
	if err != nil {
		t.Fatalf("a helper without a credential must mean anonymous: %v", err)
	}
	if !got.Anonymous() {
		t.Errorf("got %+v, want anonymous", got)
	}
}

func TestResolveCredentialsMissingHelper(t *testing.T) {
	dir := writeDockerConfig(t, `{"credHelpers":{"127.0.0.1:5999":"werk-not-installed"}}`)
	_, err := ResolveCredentials("127.0.0.1:5999", Credentials{}, dir)
	if !IsMissingHelper(err) {
		t.Fatalf("error = %v, want a MissingHelperError", err)
	}
	for _, want := range []string{"docker-credential-werk-not-installed", "127.0.0.1:5999", filepath.Join(dir, "config.json")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestResolveCredentialsBadConfig(t *testing.T) {
	dir := writeDockerConfig(t, `{"auths":`)
	_, err := ResolveCredentials("127.0.0.1:5999", Credentials{}, dir)
	if err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("error = %v, want one naming config.json", err)
	}
}

func TestRegistryAuthKey(t *testing.T) {
	for host, want := range map[string]string{
		"docker.io":       dockerHubAuthKey,
		"index.docker.io": dockerHubAuthKey,
		"127.0.0.1:5000":  "127.0.0.1:5000",
		"quay.io":         "quay.io",
	} {
		if got := RegistryAuthKey(host); got != want {
			t.Errorf("RegistryAuthKey(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestDockerConfigDirFollowsEnv(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	t.Setenv("DOCKER_CONFIG", first)
	if got := DockerConfigDir(); got != first {
		t.Errorf("DockerConfigDir() = %q, want %q", got, first)
	}
	t.Setenv("DOCKER_CONFIG", second)
	if got := DockerConfigDir(); got != second {
		t.Errorf("after changing DOCKER_CONFIG: DockerConfigDir() = %q, want %q", got, second)
	}
}
