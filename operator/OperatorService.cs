using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;
using Amphora.Operator.Controllers;
using Amphora.Operator.Kube;
using Amphora.Operator.Validation;
using Amphora.Services;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace Amphora.Operator;

/// <summary>
/// The operator (<c>--target=operator</c>): campaigns for a Lease and, only while it holds it, runs one controller per kind.
/// Losing the Lease stops the controllers at once (another replica takes over); the elector keeps campaigning.
/// </summary>
public sealed partial class OperatorService : ServiceBase
{
    private readonly OperatorOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<OperatorService> _logger;
    private readonly IKubernetes _client;
    private readonly HttpClient _http;
    private CancellationTokenSource? _leading;
    private Task _controllers = Task.CompletedTask;
    private readonly object _lock = new();

    public OperatorService(OperatorOptions options, ILoggerFactory loggers)
    {
        _options = options;
        _loggers = loggers;
        _logger = loggers.CreateLogger<OperatorService>();
        var config = options.Kubeconfig is { Length: > 0 } path
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
            : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig() : KubernetesClientConfiguration.BuildDefaultConfig();
        _client = new Kubernetes(config);
        _http = new HttpClient { BaseAddress = options.AmphoraUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public override string Name => "operator";

    /// <summary>True while this replica holds the Lease and runs the controllers.</summary>
    public bool IsLeader { get; private set; }

    protected override Task StartingAsync(CancellationToken ct)
    {
        // Fail at start, naming the file, rather than on the first reconcile.
        ControlPlaneClient.ReadCredentials(_options.AdminKeyFile);
        return Task.CompletedTask;
    }

    protected override async Task RunningAsync(CancellationToken ct)
    {
        var leaseLock = new LeaseLock(_client, _options.LeaseNamespace, _options.LeaseName, _options.Identity);
        using var elector = new LeaderElector(new LeaderElectionConfig(leaseLock)
        {
            LeaseDuration = _options.LeaseDuration,
            RenewDeadline = _options.RenewDeadline,
            RetryPeriod = _options.RetryPeriod,
        });
        elector.OnStartedLeading += () => StartLeading(ct);
        elector.OnStoppedLeading += StopLeading;
        elector.OnNewLeader += leader => LogNewLeader(leader);
        elector.OnError += e => LogElectionError(e);
        try
        {
            await CampaignForeverAsync(elector, ct);
        }
        finally
        {
            StopLeading();
            await _controllers;
        }
    }

    /// <summary>
    /// Campaigns until the process stops. The elector gives up when a request fails with something other than an API
    /// answer (connection refused while the API server restarts, a TLS or DNS failure): such a failure is logged and the
    /// campaign starts again after the retry period, so a replica that lost the Lease to an outage takes it back after.
    /// </summary>
    private async Task CampaignForeverAsync(LeaderElector elector, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await elector.RunAndTryToHoldLeadershipForeverAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                StopLeading();
                LogCampaignFailed(e, _options.RetryPeriod.TotalSeconds);
                await Task.Delay(_options.RetryPeriod, ct);
            }
        }
    }

    private void StartLeading(CancellationToken stopping)
    {
        lock (_lock)
        {
            _leading?.Cancel();
            _leading = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            IsLeader = true;
            LogLeading(_options.Identity);
            _controllers = RunControllersAsync(_leading.Token);
        }
    }

    private void StopLeading()
    {
        lock (_lock)
        {
            if (_leading is null) return;
            LogStoppedLeading(_options.Identity);
            IsLeader = false;
            _leading.Cancel();
            _leading = null;
        }
    }

    private async Task RunControllersAsync(CancellationToken ct)
    {
        var amphora = new ControlPlaneClient(_http, () => ControlPlaneClient.ReadCredentials(_options.AdminKeyFile));
        var kube = new KubeOperations(_client);
        var events = new EventRecorder(_client, _options.Identity, _loggers.CreateLogger<EventRecorder>());
        var keys = new KeySecrets(amphora, kube);
        var dependents = new DependentsIndex();
        var workspaces = NewController(new WorkspaceReconciler(amphora, kube, keys, events, _options, dependents.WorkspaceChanged), events);
        var scrapers = NewController(new ScraperReconciler(amphora, kube, keys, events, _options, workspaces.Watcher), events);
        var rules = NewController(new RuleGroupsNamespaceReconciler(amphora, kube, events, workspaces.Watcher), events);
        var alertmanagers = NewController(new AlertManagerDefinitionReconciler(amphora, kube, events, workspaces.Watcher,
            new AlertmanagerValidator(_options.AmtoolPath)), events);
        dependents.Add(scrapers);
        dependents.Add(rules);
        dependents.Add(alertmanagers);
        try
        {
            await Task.WhenAll(workspaces.RunAsync(ct), scrapers.RunAsync(ct), rules.RunAsync(ct), alertmanagers.RunAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogControllersFailed(e);
        }
    }

    private Controller<T> NewController<T>(IReconciler<T> reconciler, EventRecorder events) where T : class, IAmphoraResource =>
        new(_client, reconciler, _options.WatchNamespace, events, new WorkQueue(_options.BaseBackoff, _options.MaxBackoff),
            _loggers.CreateLogger("Amphora.Operator." + typeof(T).Name));

    protected override Task StoppingAsync(CancellationToken ct)
    {
        _http.Dispose();
        _client.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} holds the lease: running the controllers")]
    private partial void LogLeading(string identity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Identity} lost the lease: controllers stopped")]
    private partial void LogStoppedLeading(string identity);

    [LoggerMessage(Level = LogLevel.Information, Message = "the lease is held by {Leader}")]
    private partial void LogNewLeader(string leader);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election failed")]
    private partial void LogElectionError(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the campaign for the lease failed; campaigning again in {Seconds}s")]
    private partial void LogCampaignFailed(Exception e, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "the controllers failed")]
    private partial void LogControllersFailed(Exception e);
}
