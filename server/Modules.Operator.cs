using Amphora.Operator;
using Amphora.Server.Config;

namespace Amphora.Server;

/// <summary>The Kubernetes operator (--target=operator): no storage, only the operator service beside /ready and /metrics.</summary>
public sealed partial class Modules
{
    private void AddOperator(AmphoraConfig config, IServiceProvider services)
    {
        var d = config.OperatorLeaseDuration;
        var options = new OperatorOptions
        {
            Kubeconfig = config.OperatorKubeconfig,
            AmphoraUrl = new Uri(config.OperatorAmphoraUrl),
            PublicUrl = config.OperatorPublicUrl is { } p ? new Uri(p) : null,
            RemoteWriteUrl = config.OperatorRemoteWriteUrl is { } w ? new Uri(w) : null,
            AdminKeyFile = config.OperatorAdminKeyFile,
            WatchNamespace = config.OperatorNamespace,
            LeaseNamespace = config.OperatorLeaseNamespace,
            LeaseName = config.OperatorLeaseName,
            Identity = config.OperatorIdentity ?? Environment.GetEnvironmentVariable("POD_NAME") ?? $"{Environment.MachineName}-{Environment.ProcessId}",
            // client-go's proportions: renew within 2/3 of the lease, retry every 2/15 of it.
            LeaseDuration = d,
            RenewDeadline = d * 2 / 3,
            RetryPeriod = d * 2 / 15,
            BaseBackoff = config.OperatorBackoffBase,
            MaxBackoff = config.OperatorBackoffMax,
            CollectorImage = config.OperatorCollectorImage,
        };
        _services.Add(new OperatorService(options, services.GetRequiredService<ILoggerFactory>()));
    }
}
