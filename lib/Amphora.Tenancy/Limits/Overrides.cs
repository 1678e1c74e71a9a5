using System.Globalization;
using Amphora.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Amphora.Tenancy.Limits;

/// <summary>
/// Per-workspace limits: the defaults, replaced field by field by a YAML overrides file that is re-read when it changes (no
/// restart). Components receive this object and ask for a workspace's <see cref="Limits"/> on each use. The file:
/// <code>
/// defaults:            # optional, changes the defaults of every workspace
///   ingestion_rate: 100000
/// overrides:
///   ws-0f…:
///     max_series_per_metric: 5000000
///     max_query_range: 64d
///     retention_period: 30d
/// </code>
/// Unknown keys are an error naming the key; a broken file on reload is logged and the previous limits stay. Thread-safe.
/// </summary>
public sealed partial class Overrides : ServiceBase
{
    private readonly string? _path;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile LimitsState _state;
    private FileStamp? _stamp;

    private sealed record LimitsState(Limits Defaults, IReadOnlyDictionary<string, Limits> PerWorkspace,
        IReadOnlyDictionary<string, LimitsPatch?> Patches);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (LimitsState State, Workspaces.WorkspaceLimitSettings Own, Limits Result)> _layered =
        new(StringComparer.Ordinal);

    /// <summary>A workspace's own limits from its configuration (set through the control plane), laid between the defaults
    /// and the file's entry for it; null where there are none.</summary>
    public Func<string, Workspaces.WorkspaceLimitSettings?>? WorkspaceSettings { get; set; }

    public Overrides(Limits? defaults = null, string? path = null, TimeSpan? reloadInterval = null, TimeProvider? time = null, ILogger? logger = null)
    {
        _path = path;
        _interval = reloadInterval ?? TimeSpan.FromSeconds(5);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _state = new LimitsState(defaults ?? Limits.Default, new Dictionary<string, Limits>(), new Dictionary<string, LimitsPatch?>());
        BaseDefaults = defaults ?? Limits.Default;
        if (path is not null && File.Exists(path)) Load(throwOnError: true);
    }

    public override string Name => "overrides";

    private Limits BaseDefaults { get; }

    /// <summary>Raised after a reload changed the limits.</summary>
    public event Action? Reloaded;

    /// <summary>A workspace's limits: the defaults, then its own limits from its configuration, then the file's entry for it
    /// (whoever runs the service has the last word).</summary>
    public Limits For(string workspace)
    {
        var s = _state;
        if (WorkspaceSettings?.Invoke(workspace) is not { } own)
            return s.PerWorkspace.TryGetValue(workspace, out var l) ? l : s.Defaults;
        if (_layered.TryGetValue(workspace, out var cached) && ReferenceEquals(cached.State, s) && ReferenceEquals(cached.Own, own))
            return cached.Result;
        var layered = s.Defaults with
        {
            IngestionRate = own.IngestionRate ?? s.Defaults.IngestionRate,
            IngestionBurstSize = own.IngestionBurstSize ?? s.Defaults.IngestionBurstSize,
            MaxSeriesPerWorkspace = own.MaxSeries ?? s.Defaults.MaxSeriesPerWorkspace,
            MaxSeriesPerMetric = own.MaxSeriesPerMetric ?? s.Defaults.MaxSeriesPerMetric,
        };
        if (s.Patches.GetValueOrDefault(workspace) is { } patch) layered = patch.ApplyTo(layered, workspace);
        _layered[workspace] = (s, own, layered);
        return layered;
    }

    /// <summary>Re-reads the file if it changed; true when new limits were applied.</summary>
    public bool ReloadIfChanged()
    {
        if (_path is null) return false;
        var stamp = FileStamp.Of(_path);
        if (stamp == _stamp) return false;
        return Load(throwOnError: false);
    }

    private bool Load(bool throwOnError)
    {
        var stamp = FileStamp.Of(_path!);
        try
        {
            var state = stamp is null
                ? new LimitsState(BaseDefaults, new Dictionary<string, Limits>(), new Dictionary<string, LimitsPatch?>())
                : Parse(File.ReadAllText(_path!));
            _state = state;
            _stamp = stamp;
        }
        catch (Exception e) when (!throwOnError && e is YamlException or FormatException or IOException or ArgumentException)
        {
            _stamp = stamp;
            LogReloadFailed(_logger, _path!, e);
            return false;
        }
        Reloaded?.Invoke();
        return true;
    }

    private LimitsState Parse(string yaml)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        var file = deserializer.Deserialize<OverridesFile?>(yaml) ?? new OverridesFile();
        var defaults = file.Defaults?.ApplyTo(BaseDefaults, "defaults") ?? BaseDefaults;
        var per = new Dictionary<string, Limits>(StringComparer.Ordinal);
        var patches = new Dictionary<string, LimitsPatch?>(StringComparer.Ordinal);
        foreach (var (ws, o) in file.Overrides ?? [])
        {
            per[ws] = o?.ApplyTo(defaults, ws) ?? defaults;
            patches[ws] = o;
        }
        return new LimitsState(defaults, per, patches);
    }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            ReloadIfChanged();
    }

    private sealed class OverridesFile
    {
        public LimitsPatch? Defaults { get; set; }
        public Dictionary<string, LimitsPatch?>? Overrides { get; set; }
    }

    private sealed class LimitsPatch
    {
        public double? IngestionRate { get; set; }
        public long? IngestionBurstSize { get; set; }
        public long? MaxSeriesPerWorkspace { get; set; }
        public long? MaxSeriesPerMetric { get; set; }
        public int? MaxLabelNamesPerSeries { get; set; }
        public long? MaxRequestBodyBytes { get; set; }
        public long? MaxSamplesProcessed { get; set; }
        public string? MaxQueryRange { get; set; }
        public string? QueryTimeout { get; set; }
        public int? MaxConcurrentQueries { get; set; }
        public string? RetentionPeriod { get; set; }

        public Limits ApplyTo(Limits l, string where)
        {
            var r = l with
            {
                IngestionRate = IngestionRate ?? l.IngestionRate,
                IngestionBurstSize = IngestionBurstSize ?? l.IngestionBurstSize,
                MaxSeriesPerWorkspace = MaxSeriesPerWorkspace ?? l.MaxSeriesPerWorkspace,
                MaxSeriesPerMetric = MaxSeriesPerMetric ?? l.MaxSeriesPerMetric,
                MaxLabelNamesPerSeries = MaxLabelNamesPerSeries ?? l.MaxLabelNamesPerSeries,
                MaxRequestBodyBytes = MaxRequestBodyBytes ?? l.MaxRequestBodyBytes,
                MaxSamplesProcessed = MaxSamplesProcessed ?? l.MaxSamplesProcessed,
                MaxQueryRange = MaxQueryRange is null ? l.MaxQueryRange : ParseDuration(MaxQueryRange, where, "max_query_range"),
                QueryTimeout = QueryTimeout is null ? l.QueryTimeout : ParseDuration(QueryTimeout, where, "query_timeout"),
                MaxConcurrentQueries = MaxConcurrentQueries ?? l.MaxConcurrentQueries,
                RetentionPeriod = RetentionPeriod is null ? l.RetentionPeriod : ParseDuration(RetentionPeriod, where, "retention_period"),
            };
            if (r.RetentionPeriod is { } retention && retention <= TimeSpan.Zero)
                throw new ArgumentException($"overrides for {where}: retention_period must be positive");
            if (r.IngestionRate <= 0 || r.IngestionBurstSize <= 0 || r.MaxSeriesPerWorkspace < 0 || r.MaxSeriesPerMetric < 0 ||
                r.MaxLabelNamesPerSeries <= 0 || r.MaxRequestBodyBytes <= 0 || r.MaxSamplesProcessed <= 0 || r.MaxConcurrentQueries <= 0)
                throw new ArgumentException($"overrides for {where}: limits must be positive");
            return r;
        }
    }

    /// <summary>Prometheus-style durations: a number with unit ms, s, m, h, d, w, y (e.g. 32d, 1h30m).</summary>
    public static TimeSpan ParseDuration(string text, string where = "", string key = "")
    {
        var total = TimeSpan.Zero;
        int i = 0;
        if (text.Length == 0) throw new FormatException($"{where}.{key}: empty duration");
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            if (i == start) throw new FormatException($"{where}.{key}: \"{text}\" is not a duration like 32d or 90s");
            long n = long.Parse(text.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            int u = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            total += text[u..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                "w" => TimeSpan.FromDays(7 * n),
                "y" => TimeSpan.FromDays(365 * n),
                _ => throw new FormatException($"{where}.{key}: \"{text}\" has an unknown unit (use ms, s, m, h, d, w, y)"),
            };
        }
        return total;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not reload the limits overrides {Path}; keeping the previous limits")]
    private static partial void LogReloadFailed(ILogger logger, string path, Exception e);
}
