package engine

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/docker/api/types/registry"
)

// dockerHubAuthKey is the key under which the Docker CLI stores Docker Hub
// credentials in config.json and passes them to credential helpers.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// Credentials are the login werk sends to the engine for one registry. They
// travel as fields of the X-Registry-Auth header, never through a shell, so
// any character is allowed in a password.
type Credentials struct {
	Username string
	Password string
	// IdentityToken is an OAuth refresh token that a credential helper or
	// config.json may hold instead of a password.
	IdentityToken string
	// ServerAddress is the registry the credentials are for: a host[:port], or
	// dockerHubAuthKey for Docker Hub.
	ServerAddress string
	// Source names where the credentials came from, for the log: "step
	// options", a config.json path, a helper program, or "none".
	Source string
}

// Anonymous reports whether c holds no credential at all.
func (c Credentials) Anonymous() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// encode returns the X-Registry-Auth header value. Anonymous credentials
// carry only the server address, and the engine then pushes without login.
func (c Credentials) encode() (string, error) {
	return registry.EncodeAuthConfig(registry.AuthConfig{
		Username:      c.Username,
		Password:      c.Password,
		IdentityToken: c.IdentityToken,
		ServerAddress: c.ServerAddress,
	})
}

// RegistryAuthKey returns the key that identifies registryHost in
// config.json and to credential helpers: the Docker Hub URL for docker.io,
// else the host itself.
func RegistryAuthKey(registryHost string) string {
	switch registryHost {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		return dockerHubAuthKey
	}
	return registryHost
}

// DockerConfigDir returns the directory of the user's Docker configuration:
// $DOCKER_CONFIG, else ~/.docker. It is read on every call, unlike
// config.Dir, which caches its first result for the life of the process.
func DockerConfigDir() string {
	if dir := os.Getenv(config.EnvOverrideConfigDir); dir != "" {
		return dir
	}
	return config.Dir()
}

// ResolveCredentials picks the credentials for a push to registryHost. The
// step's username and password win when either is set. Otherwise the Docker
// configuration in configDir decides, through docker/cli's config package:
// the registry's entry in credHelpers, else credsStore, else the registry's
// entry in auths. A helper that has no credential
// for the registry means an anonymous push; a helper program that is missing
// is an error naming it.
func ResolveCredentials(registryHost string, step Credentials, configDir string) (Credentials, error) {
	key := RegistryAuthKey(registryHost)
	if step.Username != "" || step.Password != "" {
		step.ServerAddress = key
		step.Source = "step options"
		return step, nil
	}

	cfg, err := config.Load(configDir)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the Docker configuration for registry %s: %w (fix or move %s, or set username and password on the step)",
			registryHost, err, filepath.Join(configDir, config.ConfigFileName))
	}
	source := cfg.Filename
	helper := cfg.CredentialHelpers[key]
	if helper == "" {
		helper = cfg.CredentialsStore
	}
	if helper != "" {
		program := "docker-credential-" + helper
		if _, err := exec.LookPath(program); err != nil {
			return Credentials{}, &MissingHelperError{Program: program, Registry: registryHost, ConfigFile: cfg.Filename, Err: err}
		}
		source = program
	}

	// GetAuthConfig maps "no credential stored" from a helper to an empty
	// result, which means an anonymous push.
	// NOTE: docker/cli v29.10 connects the helper's stderr to werk's stderr,
	// and writes a malformed DOCKER_AUTH_CONFIG warning there too, so either
	// can appear on the terminal next to the TUI.
	auth, err := cfg.GetAuthConfig(key)
	if err != nil {
		return Credentials{}, fmt.Errorf("getting credentials for registry %s from %s: %w", registryHost, source, err)
	}
	c := Credentials{
		Username:      auth.Username,
		Password:      auth.Password,
		IdentityToken: auth.IdentityToken,
		ServerAddress: key,
		Source:        source,
	}
	if c.Anonymous() {
		c.Source = "none"
	}
	return c, nil
}

// MissingHelperError is a credential helper that the Docker configuration
// names but that is not installed.
type MissingHelperError struct {
	Program    string
	Registry   string
	ConfigFile string
	Err        error
}

func (e *MissingHelperError) Error() string {
	return fmt.Sprintf("credential helper %s for registry %s not found in PATH (named in %s): "+
		"install it, remove it from credHelpers/credsStore there, or set username and password on the step",
		e.Program, e.Registry, e.ConfigFile)
}

func (e *MissingHelperError) Unwrap() error { return e.Err }

// IsMissingHelper reports whether err is a *MissingHelperError.
func IsMissingHelper(err error) bool {
	var m *MissingHelperError
	return errors.As(err, &m)
}
