using Amphora.Operator.Api;
using Amphora.Operator.Kube;
using Amphora.Operator.Validation;
using k8s.Models;

namespace Amphora.Operator.Controllers;

// The collector's objects: ConfigMap, ServiceAccount, Role, RoleBinding, Deployment.
public sealed partial class ScraperReconciler
{
    public const string ConfigHashAnnotation = "amphora.dev/config-hash";

    /// <summary>What Kubernetes service discovery (pod, service, endpoints, endpointslice, ingress roles) reads in the namespace.</summary>
    public static readonly IReadOnlyList<V1PolicyRule> DiscoveryRules =
    [
        new() { ApiGroups = [""], Resources = ["pods", "services", "endpoints"], Verbs = ["get", "list", "watch"] },
        new() { ApiGroups = ["discovery.k8s.io"], Resources = ["endpointslices"], Verbs = ["get", "list", "watch"] },
        new() { ApiGroups = ["networking.k8s.io"], Resources = ["ingresses"], Verbs = ["get", "list", "watch"] },
    ];

    private async Task ApplyCollectorAsync(V1Alpha1Scraper scraper, string workspace, string config, string hash, ScraperStatus status,
        CancellationToken ct)
    {
        string ns = scraper.Metadata.NamespaceProperty, name = scraper.Metadata.Name;
        string collector = $"{name}-collector";
        V1ObjectMeta Meta(string objectName) => new()
        {
            Name = objectName,
            NamespaceProperty = ns,
            Labels = OwnedObjects.Labels(workspace, V1Alpha1Scraper.KindName, name),
            OwnerReferences = [OwnedObjects.OwnerReference(scraper)],
        };
        status.ConfigMapName = $"{name}-config";
        status.ServiceAccountName = collector;
        status.DeploymentName = collector;

        await kube.ApplyConfigMapAsync(new V1ConfigMap
        {
            ApiVersion = "v1", Kind = "ConfigMap", Metadata = Meta(status.ConfigMapName),
            Data = new Dictionary<string, string> { ["prometheus.yml"] = config },
        }, ct);
        await kube.ApplyServiceAccountAsync(new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = Meta(collector) }, ct);
        await kube.ApplyRoleAsync(new V1Role
        {
            ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "Role", Metadata = Meta(collector), Rules = [.. DiscoveryRules],
        }, ct);
        await kube.ApplyRoleBindingAsync(new V1RoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "RoleBinding", Metadata = Meta(collector),
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = collector },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = collector, NamespaceProperty = ns }],
        }, ct);

        var podLabels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "amphora-collector", ["amphora.dev/scraper"] = name };
        var container = new V1Container
        {
            Name = "prometheus",
            Image = scraper.Spec.Image ?? options.CollectorImage,
            Args =
            [
                "--config.file=/etc/prometheus/prometheus.yml", "--enable-feature=agent", "--storage.agent.path=/prometheus",
                "--web.listen-address=:9090",
            ],
            Ports = [new V1ContainerPort { Name = "http", ContainerPort = 9090 }],
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/-/ready", Port = 9090 } },
            VolumeMounts =
            [
                new V1VolumeMount { Name = "config", MountPath = "/etc/prometheus", ReadOnlyProperty = true },
                new V1VolumeMount { Name = "write-key", MountPath = ScrapeConfigBuilder.WriteKeyDir, ReadOnlyProperty = true },
                new V1VolumeMount { Name = "data", MountPath = "/prometheus" },
            ],
        };
        if (scraper.Spec.Resources is { } resources)
            container.Resources = k8s.KubernetesJson.Deserialize<V1ResourceRequirements>(resources.ToJsonString());
        await kube.ApplyDeploymentAsync(new V1Deployment
        {
            ApiVersion = "apps/v1", Kind = "Deployment", Metadata = Meta(collector),
            Spec = new V1DeploymentSpec
            {
                Replicas = scraper.Spec.Replicas ?? 1,
                Selector = new V1LabelSelector { MatchLabels = podLabels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta
                    {
                        Labels = new Dictionary<string, string>(podLabels),
                        Annotations = new Dictionary<string, string> { [ConfigHashAnnotation] = hash },
                    },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = collector,
                        Containers = [container],
                        Volumes =
                        [
                            new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = status.ConfigMapName } },
                            new V1Volume { Name = "write-key", Secret = new V1SecretVolumeSource { SecretName = status.SecretName } },
                            new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() },
                        ],
                    },
                },
            },
        }, ct);
    }
}
