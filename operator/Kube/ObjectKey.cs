using k8s;
using k8s.Models;

namespace Amphora.Operator.Kube;

/// <summary>The <c>namespace/name</c> key of a namespaced object, as work queues and caches use it.</summary>
public static class ObjectKey
{
    public static string Of(IKubernetesObject<V1ObjectMeta> o) => Of(o.Metadata.NamespaceProperty ?? "", o.Metadata.Name);

    public static string Of(string ns, string name) => ns + "/" + name;

    public static (string Namespace, string Name) Split(string key)
    {
        int slash = key.IndexOf('/', StringComparison.Ordinal);
        return (key[..slash], key[(slash + 1)..]);
    }
}
