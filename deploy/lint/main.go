// Command lint checks BrokerSync's deployment files without a cluster or a
// Docker daemon: the compose file is loaded and validated against the
// Compose specification by compose-go (the library docker compose uses),
// and every Kubernetes manifest is decoded strictly into the API's own
// types (an unknown or misspelt field, a wrong type or a missing kind is
// an error), then checked for what BrokerSync needs: probes on /readyz and
// /healthz, resource requests, a PodDisruptionBudget and a Service whose
// selectors match the Deployment, and ConfigMaps and Secrets that exist.
//
//	cd deploy/lint && go run . -compose ../docker-compose.yml -k8s ../k8s
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	compose := flag.String("compose", "", "docker compose file to check")
	k8s := flag.String("k8s", "", "directory of Kubernetes manifests to check")
	flag.Parse()
	var errs []error
	if *compose != "" {
		errs = append(errs, checkCompose(*compose))
	}
	if *k8s != "" {
		errs = append(errs, checkK8s(*k8s))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func checkCompose(path string) error {
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithOsEnv, cli.WithDotEnv, cli.WithName("brokersync"))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	replicas := 0
	for name, s := range p.Services {
		if strings.HasPrefix(name, "brokersync") {
			replicas++
			if s.Environment["BROKERSYNC_CASSANDRA_CONSISTENCY"] == nil || *s.Environment["BROKERSYNC_CASSANDRA_CONSISTENCY"] != "LOCAL_QUORUM" {
				errs = append(errs, fmt.Errorf("%s: service %s: BROKERSYNC_CASSANDRA_CONSISTENCY must be LOCAL_QUORUM on a cluster", path, name))
			}
		}
	}
	if replicas < 2 {
		errs = append(errs, fmt.Errorf("%s: %d BrokerSync services, want at least two replicas", path, replicas))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("%s: %d services valid (%d BrokerSync replicas)\n", path, len(p.Services), replicas)
	return nil
}

type object struct {
	file string
	obj  runtime.Object
}

func checkK8s(dir string) error {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("%s: no manifests (%v)", dir, err)
	}
	var objs []object
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if filepath.Base(f) == "kustomization.yaml" {
			errs = append(errs, checkKustomization(dir, f, data))
			continue
		}
		r := utilyaml.NewYAMLReader(bufioReader(data))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if err != nil {
				break
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s document %d: %w", f, i+1, err))
				continue
			}
			objs = append(objs, object{f, obj})
		}
	}
	errs = append(errs, crossCheck(objs))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("%s: %d manifests valid\n", dir, len(objs))
	return nil
}

func checkKustomization(dir, f string, data []byte) error {
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	var errs []error
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
			errs = append(errs, fmt.Errorf("%s: resource %s: %w", f, r, err))
		}
	}
	return errors.Join(errs...)
}

// crossCheck checks what BrokerSync's manifests must have together.
func crossCheck(objs []object) error {
	var errs []error
	fail := func(f string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{f}, args...)...))
	}
	configMaps, secrets := map[string]bool{}, map[string]bool{}
	var deployments []object
	var pdbs []*policyv1.PodDisruptionBudget
	var services []*corev1.Service
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = true
		case *corev1.Secret:
			secrets[v.Name] = true
		case *appsv1.Deployment:
			deployments = append(deployments, o)
		case *policyv1.PodDisruptionBudget:
			pdbs = append(pdbs, v)
		case *corev1.Service:
			services = append(services, v)
		}
	}
	if len(deployments) == 0 {
		return errors.New("no Deployment")
	}
	for _, o := range deployments {
		d := o.obj.(*appsv1.Deployment)
		podLabels := labels.Set(d.Spec.Template.Labels)
		if sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels); !sel.Matches(podLabels) {
			fail(o.file, "Deployment %s: selector does not match its pod labels", d.Name)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			fail(o.file, "Deployment %s: want at least two replicas", d.Name)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
				fail(o.file, "container %s: no readiness probe on /readyz", c.Name)
			}
			if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
				fail(o.file, "container %s: no liveness probe on /healthz", c.Name)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				fail(o.file, "container %s: no CPU or memory request", c.Name)
			}
			if c.Resources.Limits.Memory().IsZero() {
				fail(o.file, "container %s: no memory limit", c.Name)
			}
			for _, e := range c.EnvFrom {
				if e.ConfigMapRef != nil && !configMaps[e.ConfigMapRef.Name] {
					fail(o.file, "container %s: ConfigMap %s is not among the manifests", c.Name, e.ConfigMapRef.Name)
				}
				if e.SecretRef != nil && !secrets[e.SecretRef.Name] {
					fail(o.file, "container %s: Secret %s is not among the manifests (secret.example.yaml)", c.Name, e.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if strings.Contains(strings.ToUpper(e.Name), "SECRET") || strings.Contains(strings.ToUpper(e.Name), "TOKEN") {
					if e.Value != "" {
						fail(o.file, "container %s: %s set in the manifest; take it from a Secret", c.Name, e.Name)
					}
				}
			}
		}
		matched := slices.ContainsFunc(pdbs, func(p *policyv1.PodDisruptionBudget) bool {
			sel, err := metaSelector(p)
			return err == nil && sel.Matches(podLabels)
		})
		if !matched {
			fail(o.file, "Deployment %s: no PodDisruptionBudget selects its pods", d.Name)
		}
		if !slices.ContainsFunc(services, func(s *corev1.Service) bool {
			return len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels)
		}) {
			fail(o.file, "Deployment %s: no Service selects its pods", d.Name)
		}
	}
	return errors.Join(errs...)
}
