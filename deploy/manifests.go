package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// Kustomization is the part of a kustomization.yaml the base uses; a
// field it does not name is refused by the strict decoding.
type Kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels,omitempty"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
}

// Manifests are the objects of a kustomize base, decoded.
type Manifests struct {
	StatefulSets []*appsv1.StatefulSet
	Services     []*corev1.Service
	PDBs         []*policyv1.PodDisruptionBudget
}

// Load reads dir/kustomization.yaml and every resource it lists, each
// document decoded strictly (an unknown or duplicate field is an error)
// into its Kubernetes API type. It returns an error for an unreadable
// file, a decoding error (naming the file and document) and a kind it does
// not know.
func Load(dir string) (*Manifests, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k Kustomization
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	if k.Kind != "Kustomization" || len(k.Resources) == 0 {
		return nil, errors.New("kustomization.yaml: not a Kustomization with resources")
	}
	m := &Manifests{}
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			return nil, err
		}
		for i, doc := range splitDocuments(b) {
			if err := m.decode(doc); err != nil {
				return nil, fmt.Errorf("%s, document %d: %w", r, i+1, err)
			}
		}
	}
	return m, nil
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// splitDocuments splits a YAML stream into its non-empty documents.
func splitDocuments(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range docSeparator.Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (m *Manifests) decode(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	strict := func(v any) error { return yaml.UnmarshalStrict(bytes.TrimSpace(doc), v) }
	switch tm.APIVersion + "/" + tm.Kind {
	case "apps/v1/StatefulSet":
		var o appsv1.StatefulSet
		if err := strict(&o); err != nil {
			return err
		}
		m.StatefulSets = append(m.StatefulSets, &o)
	case "v1/Service":
		var o corev1.Service
		if err := strict(&o); err != nil {
			return err
		}
		m.Services = append(m.Services, &o)
	case "policy/v1/PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		if err := strict(&o); err != nil {
			return err
		}
		m.PDBs = append(m.PDBs, &o)
	default:
		return fmt.Errorf("kind %s %s is not checked here: add it to deploy.Manifests", tm.APIVersion, tm.Kind)
	}
	return nil
}

// Check returns every way the manifests miss what running the service as
// a fleet needs (nil when they miss nothing): one StatefulSet with a data
// volume per pod, a headless Service and a PodDisruptionBudget selecting
// its pods, gRPC readiness and liveness probes on the port the server
// listens on, a non-root security context, every Secret mounted
// read-only, the suppression list's DSN and password from a Secret, a
// maximum connection age.
func (m *Manifests) Check() []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(m.StatefulSets) != 1 || len(m.Services) != 1 || len(m.PDBs) != 1 {
		fail("want one StatefulSet, one Service and one PodDisruptionBudget, have %d, %d, %d", len(m.StatefulSets), len(m.Services), len(m.PDBs))
		return errs
	}
	ss, svc, pdb := m.StatefulSets[0], m.Services[0], m.PDBs[0]
	pod := ss.Spec.Template
	podLabels := labels.Set(pod.Labels)

	sel, err := metav1.LabelSelectorAsSelector(ss.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(podLabels) {
		fail("StatefulSet: its selector does not select its own pods (%v)", err)
	}
	if ss.Spec.ServiceName != svc.Name {
		fail("StatefulSet: serviceName %q is not the Service %q", ss.Spec.ServiceName, svc.Name)
	}

	// Service: headless, selecting the pods.
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		fail("Service: clusterIP %q, want None (headless, for client-side round_robin)", svc.Spec.ClusterIP)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		fail("Service: selector %v does not select the pods %v", svc.Spec.Selector, pod.Labels)
	}
	if svc.Spec.PublishNotReadyAddresses {
		fail("Service: publishNotReadyAddresses would send clients to replicas without data")
	}

	// PodDisruptionBudget.
	psel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || psel.Empty() || !psel.Matches(podLabels) {
		fail("PodDisruptionBudget: selector does not select the pods %v (%v)", pod.Labels, err)
	}
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		fail("PodDisruptionBudget: neither minAvailable nor maxUnavailable")
	}

	// Pod security.
	ps := pod.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
		fail("pod securityContext: want runAsNonRoot true and a runAsUser other than 0")
	}
	if len(pod.Spec.Containers) != 1 {
		fail("pod: want one container, have %d", len(pod.Spec.Containers))
		return errs
	}
	c := pod.Spec.Containers[0]
	cs := c.SecurityContext
	if cs == nil || cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem ||
		cs.RunAsUser != nil && *cs.RunAsUser == 0 || cs.Privileged != nil && *cs.Privileged {
		fail("container securityContext: want allowPrivilegeEscalation false, readOnlyRootFilesystem true, not root, not privileged")
	}

	// Probes: gRPC on the port the server listens on.
	listen := argValue(c.Args, "--listen")
	_, portText, _ := strings.Cut(listen, ":")
	port, err := strconv.Atoi(portText)
	if err != nil {
		fail("container: no --listen HOST:PORT argument (%q)", listen)
	}
	var grpcPort int32
	for _, p := range c.Ports {
		if p.Name == "grpc" {
			grpcPort = p.ContainerPort
		}
	}
	if grpcPort == 0 || int(grpcPort) != port {
		fail("container: port grpc is %d, the server listens on %d", grpcPort, port)
	}
	for name, p := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if p == nil || p.GRPC == nil {
			fail("%s: want a native gRPC probe (grpc.health.v1)", name)
			continue
		}
		if int(p.GRPC.Port) != port {
			fail("%s: gRPC port %d, the server listens on %d", name, p.GRPC.Port, port)
		}
	}
	if p := c.ReadinessProbe; p != nil && p.GRPC != nil && p.GRPC.Service != nil && *p.GRPC.Service != "" {
		fail("readinessProbe: service %q; readiness is the overall health (service \"\"), NOT_SERVING without a verified list", *p.GRPC.Service)
	}
	if p := c.LivenessProbe; p != nil && p.GRPC != nil && (p.GRPC.Service == nil || *p.GRPC.Service != "liveness") {
		fail("livenessProbe: want service \"liveness\" (the overall health is NOT_SERVING without data, which must not restart the pod)")
	}
	if argValue(c.Args, "--tls-cert") != "" && !hasArg(c.Args, "--plaintext-health") {
		fail("container: TLS without --plaintext-health: Kubernetes' gRPC probes cannot speak TLS")
	}
	if d := argValue(c.Args, "--max-connection-age"); d == "" || d == "0" || d == "0s" {
		fail("container: no --max-connection-age: clients would never rebalance")
	}

	// Data: a volume per pod, mounted at the data directory.
	var dataMount string
	for _, vm := range c.VolumeMounts {
		for _, t := range ss.Spec.VolumeClaimTemplates {
			if vm.Name == t.Name {
				dataMount = vm.MountPath
			}
		}
	}
	if dataMount == "" {
		fail("StatefulSet: no volumeClaimTemplates volume mounted in the container (each pod's own data directory)")
	}

	// Secrets read-only; the suppression list's DSN from a Secret.
	secretVolumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil {
			secretVolumes[v.Name] = true
		}
	}
	if len(secretVolumes) == 0 {
		fail("pod: no Secret volumes (key files, certificates, tokens)")
	}
	for _, vm := range c.VolumeMounts {
		if secretVolumes[vm.Name] && !vm.ReadOnly {
			fail("volumeMount %s: a Secret mounted writable", vm.Name)
		}
	}
	for _, flagName := range []string{"--key-file", "--receipt-key-file", "--tls-cert", "--tls-key", "--token-file"} {
		v := argValue(c.Args, flagName)
		if v == "" {
			fail("container: no %s", flagName)
			continue
		}
		if !underSecretMount(v, c.VolumeMounts, secretVolumes) {
			fail("container: %s %s is not on a Secret volume", flagName, v)
		}
	}
	dsn := argValue(c.Args, "--suppressions")
	fromSecret := false
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && dsn == "$("+e.Name+")" {
			fromSecret = true
		}
		if strings.Contains(e.Value, "postgres://") {
			fail("env %s: a DSN written into the manifest", e.Name)
		}
	}
	if !fromSecret {
		fail("container: --suppressions %q is not $(VAR) of a variable from a Secret", dsn)
	}
	pgPassword := false
	for _, e := range c.Env {
		pgPassword = pgPassword || e.Name == "PGPASSWORD" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
	}
	if !pgPassword {
		fail("container: no PGPASSWORD from a Secret (the suppression list's password stays out of the URL)")
	}
	return errs
}

// argValue returns the value of --name=VALUE or "--name VALUE" in args.
func argValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func hasArg(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func underSecretMount(path string, mounts []corev1.VolumeMount, secret map[string]bool) bool {
	for _, vm := range mounts {
		if secret[vm.Name] && strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}
