using Amphora.Operator.Api;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Amphora.Operator.Kube;

/// <summary>
/// Records core/v1 Events on the resources the operator acts on: what it did (Normal) and every failure (Warning), with
/// the operator's identity as reporting instance so it shows which replica acted. A failed event write is logged, never
/// thrown: events are for people, not part of the reconcile.
/// </summary>
public sealed partial class EventRecorder(IKubernetes client, string identity, ILogger<EventRecorder> logger)
{
    public const string Component = "amphora-operator";

    public string Identity => identity;

    public Task NormalAsync(IAmphoraResource on, string reason, string message) => RecordAsync(on, "Normal", reason, message);

    public Task WarningAsync(IAmphoraResource on, string reason, string message) => RecordAsync(on, "Warning", reason, message);

    private async Task RecordAsync(IAmphoraResource on, string type, string reason, string message)
    {
        var now = DateTime.UtcNow;
        var ev = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta
            {
                Name = $"{on.Metadata.Name}.{Guid.NewGuid():N}"[..Math.Min(253, on.Metadata.Name.Length + 17)],
                NamespaceProperty = on.Metadata.NamespaceProperty,
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = on.ApiVersion,
                Kind = on.Kind,
                Name = on.Metadata.Name,
                NamespaceProperty = on.Metadata.NamespaceProperty,
                Uid = on.Metadata.Uid,
                ResourceVersion = on.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Message = message.Length > 1024 ? message[..1021] + "..." : message,
            Source = new V1EventSource { Component = Component, Host = identity },
            ReportingComponent = Component,
            ReportingInstance = identity,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
            Action = reason,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(ev, on.Metadata.NamespaceProperty);
        }
        catch (Exception e)
        {
            LogEventFailed(e, reason, on.Metadata.Name);
        }
        LogEvent(type, reason, on.Kind, on.Metadata.NamespaceProperty, on.Metadata.Name, message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not record event {Reason} on {Name}")]
    private partial void LogEventFailed(Exception e, string reason, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Type} {Reason} {Kind} {Namespace}/{Name}: {Message}")]
    private partial void LogEvent(string type, string reason, string kind, string @namespace, string name, string message);
}
