package registry

import (
	"context"
	"fmt"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// Credential is a user name and password (or an identity or access token).
type Credential = auth.Credential

// CredentialStore holds registry credentials.
type CredentialStore = credentials.Store

// DockerCredentials opens the credential store docker, oras and helm
// share: $DOCKER_CONFIG/config.json or ~/.docker/config.json, with the
// credential helpers it names (credsStore, credHelpers). Credentials are
// stored in the file in plain text only when no helper is configured, as
// `docker login` does. The file is checked first (openDockerConfig: a
// regular file, bounded, strict JSON; a symlink is followed to the file
// it leads to, which is the one rewritten) and a rewrite keeps its mode
// and is fsynced (durableStore); unknown fields are kept.
func DockerCredentials() (CredentialStore, error) {
	path, err := dockerConfigPath()
	if err != nil {
		return nil, err
	}
	real, mode, err := openDockerConfig(path)
	if err != nil {
		return nil, err
	}
	s, err := credentials.NewStore(real, credentials.StoreOptions{AllowPlaintextPut: true})
	if err != nil {
		return nil, fmt.Errorf("docker credential store: %w", err)
	}
	return &durableStore{Store: s, path: real, mode: mode}, nil
}

// CredentialFunc turns a store into what ClientOptions.Credential takes.
func CredentialFunc(s CredentialStore) auth.CredentialFunc { return credentials.Credential(s) }

// Login checks cred against host's /v2/ endpoint and, if the registry
// accepts it, saves it in s. Neither the password nor a token is ever
// part of an error.
func Login(ctx context.Context, host string, cred Credential, s CredentialStore, o ClientOptions) error {
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return fmt.Errorf("registry %q: %w", host, err)
	}
	hc, err := httpClient(o)
	if err != nil {
		return err
	}
	reg.PlainHTTP = o.PlainHTTP
	reg.Client = &auth.Client{Client: hc}
	if err := credentials.Login(ctx, s, reg, cred); err != nil {
		return classify(err)
	}
	return nil
}

// Logout removes host's credential from s.
func Logout(ctx context.Context, host string, s CredentialStore) error {
	return credentials.Logout(ctx, s, host)
}
