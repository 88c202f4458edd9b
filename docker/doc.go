// Package docker holds the test of the repository's Dockerfile (the GPU
// image for the reproduction; see the README). There is no Docker engine on
// the development and CI machines, so the test parses the Dockerfile with
// BuildKit's own parser and checks its key instructions; the image itself
// is built elsewhere.
package docker
