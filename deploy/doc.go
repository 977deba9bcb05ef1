// Package deploy holds shoal's deployment files, not code: Kubernetes
// manifests (kubernetes/), a systemd unit with its environment file and an
// example config (systemd/), and the container image's Dockerfile. Its test
// checks them the way a cluster, systemd and docker would read them: the
// objects fit together, every flag is a real `shoal run` flag, and every
// config passes `shoal validate`. How to use them is docs/deploy.md.
package deploy
