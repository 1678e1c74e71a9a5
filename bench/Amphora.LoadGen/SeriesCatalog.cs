namespace Amphora.LoadGen;

/// <summary>How a series' value evolves from one scrape to the next.</summary>
public enum SeriesKind { Counter, Gauge, BucketCounter, NativeHistogram }

/// <summary>One generated series: its labels (sorted, <c>__name__</c> first as remote write sends them) and value model.</summary>
public sealed class GeneratedSeries(string[] names, string[] values, SeriesKind kind, double rate)
{
    public string[] Names { get; } = names;
    public string[] Values { get; } = values;
    public SeriesKind Kind { get; } = kind;
    /// <summary>Mean increase per second (counters) or scale of the random walk (gauges).</summary>
    public double Rate { get; } = rate;
    public double Value;

    /// <summary>A native histogram's observations so far: counts of schema <see cref="SeriesCatalog.Schema"/> buckets from
    /// index <see cref="SeriesCatalog.MinIndex"/> on (dense), their count and sum.</summary>
    public long[]? Buckets;
    public long Count;
    public double Sum;
    /// <summary>A native histogram's median observation (seconds).</summary>
    public double Median;
}

/// <summary>
/// A deterministic fleet of node-exporter-like targets: per instance, CPU seconds by cpu and mode, memory and filesystem
/// gauges by device, network counters by device, and an HTTP latency histogram with classic buckets (or, with
/// <c>nativeHistograms</c>, one native histogram of schema 3 per handler, as a client library records log-normal latencies).
/// Instances are added until the requested number of series is reached; churn replaces whole instances, as a redeployment does.
/// </summary>
public sealed class SeriesCatalog
{
    /// <summary>The native histograms' schema (8 buckets per doubling) and the bucket index range they cover (1 ms to 16 s).</summary>
    public const int Schema = 3, MinIndex = -80, MaxIndex = 32;

    private static readonly string[] CpuModes = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"];
    private static readonly string[] Devices = ["eth0", "eth1", "lo", "docker0"];
    private static readonly string[] Disks = ["sda", "sdb", "nvme0n1"];
    private static readonly string[] Mounts = ["/", "/boot", "/var", "/home"];
    private static readonly string[] Buckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
    private static readonly string[] Handlers = ["/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/metrics"];

    private readonly Random _random;
    private readonly List<GeneratedSeries[]> _instances = new();
    /// <summary>Each instance's CPU count: its replacement gets the same, so churn keeps the number of series.</summary>
    private readonly List<int> _cpus = new();
    private int _nextInstance;
    private readonly bool _native;

    public SeriesCatalog(int targetSeries, int seed, bool nativeHistograms = false)
    {
        _random = new Random(seed);
        _native = nativeHistograms;
        int total = 0;
        while (total < targetSeries)
        {
            int cpus = 2 + _random.Next(7);
            var instance = NewInstance(cpus);
            if (total + instance.Length > targetSeries) instance = instance[..(targetSeries - total)];
            _instances.Add(instance);
            _cpus.Add(cpus);
            total += instance.Length;
        }
        Count = total;
    }

    public int Count { get; }

    public IEnumerable<GeneratedSeries> All()
    {
        foreach (var instance in _instances)
            foreach (var s in instance)
                yield return s;
    }

    /// <summary>Replaces about <paramref name="fraction"/> of the series with new instances (new label values) of the same
    /// shape, so the number of active series stays the same.</summary>
    public void Churn(double fraction)
    {
        int replace = (int)Math.Round(_instances.Count * fraction);
        for (int i = 0; i < replace; i++)
        {
            int victim = _random.Next(_instances.Count);
            int length = _instances[victim].Length;
            var fresh = NewInstance(_cpus[victim]);
            _instances[victim] = fresh.Length > length ? fresh[..length] : fresh;
        }
    }

    /// <summary>Advances every series by one scrape interval.</summary>
    public void Advance(double intervalSeconds)
    {
        foreach (var instance in _instances)
        {
            foreach (var s in instance)
            {
                switch (s.Kind)
                {
                    case SeriesKind.Counter:
                        s.Value += s.Rate * intervalSeconds * (0.5 + _random.NextDouble());
                        break;
                    case SeriesKind.Gauge:
                        s.Value = Math.Max(0, s.Value + s.Rate * (_random.NextDouble() - 0.5));
                        break;
                    case SeriesKind.BucketCounter:
                        // Buckets of one histogram grow together; higher buckets never grow slower, which keeps them cumulative.
                        s.Value += Math.Floor(s.Rate * intervalSeconds * (0.8 + 0.4 * _random.NextDouble()));
                        break;
                    case SeriesKind.NativeHistogram:
                        Observe(s, (int)Math.Round(s.Rate * intervalSeconds * (0.8 + 0.4 * _random.NextDouble())));
                        break;
                }
            }
        }
    }

    private GeneratedSeries[] NewInstance(int cpus)
    {
        int id = _nextInstance++;
        string instance = $"10.{id / 65536 % 256}.{id / 256 % 256}.{id % 256}:9100";
        string job = id % 10 == 0 ? "api" : "node";
        var list = new List<GeneratedSeries>();
        for (int cpu = 0; cpu < cpus; cpu++)
            foreach (var mode in CpuModes)
                list.Add(Make("node_cpu_seconds_total", SeriesKind.Counter, mode == "idle" ? 0.9 : 0.02 * _random.NextDouble(),
                    ("cpu", cpu.ToString()), ("instance", instance), ("job", job), ("mode", mode)));
        foreach (var name in (string[])["node_memory_MemAvailable_bytes", "node_memory_MemFree_bytes", "node_memory_Cached_bytes", "node_load1", "node_load5"])
            list.Add(Make(name, SeriesKind.Gauge, name.StartsWith("node_load") ? 0.2 : 5e7, ("instance", instance), ("job", job)));
        foreach (var device in Devices)
        {
            list.Add(Make("node_network_receive_bytes_total", SeriesKind.Counter, 1e5 * _random.NextDouble(), ("device", device), ("instance", instance), ("job", job)));
            list.Add(Make("node_network_transmit_bytes_total", SeriesKind.Counter, 1e5 * _random.NextDouble(), ("device", device), ("instance", instance), ("job", job)));
        }
        foreach (var disk in Disks)
            list.Add(Make("node_disk_io_time_seconds_total", SeriesKind.Counter, 0.05, ("device", disk), ("instance", instance), ("job", job)));
        foreach (var mount in Mounts)
            list.Add(Make("node_filesystem_avail_bytes", SeriesKind.Gauge, 1e6, ("device", "/dev/sda1"), ("fstype", "ext4"), ("instance", instance), ("job", job), ("mountpoint", mount)));
        foreach (var handler in Handlers)
        {
            double requests = 5 + 20 * _random.NextDouble();
            if (_native)
            {
                var h = Make("http_request_duration_seconds", SeriesKind.NativeHistogram, requests, ("handler", handler), ("instance", instance), ("job", job));
                h.Buckets = new long[MaxIndex - MinIndex + 1];
                h.Median = 0.02 + 0.2 * _random.NextDouble();
                list.Add(h);
                continue;
            }
            for (int b = 0; b < Buckets.Length; b++)
                list.Add(Make("http_request_duration_seconds_bucket", SeriesKind.BucketCounter, requests * (b + 1) / Buckets.Length,
                    ("handler", handler), ("instance", instance), ("job", job), ("le", Buckets[b])));
            list.Add(Make("http_request_duration_seconds_sum", SeriesKind.Counter, requests * 0.2, ("handler", handler), ("instance", instance), ("job", job)));
            list.Add(Make("http_request_duration_seconds_count", SeriesKind.BucketCounter, requests, ("handler", handler), ("instance", instance), ("job", job)));
        }
        return list.ToArray();
    }

    /// <summary>Records <paramref name="n"/> log-normal observations around the series' median (σ = 0.8) in its buckets.</summary>
    private void Observe(GeneratedSeries s, int n)
    {
        for (int i = 0; i < n; i++)
        {
            double gauss = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
            double v = s.Median * Math.Exp(0.8 * gauss);
            // Bucket k of schema 3 holds (2^((k-1)/8), 2^(k/8)].
            int index = Math.Clamp((int)Math.Ceiling(Math.Log2(v) * (1 << Schema)), MinIndex, MaxIndex);
            s.Buckets![index - MinIndex]++;
            s.Count++;
            s.Sum += v;
        }
    }

    private GeneratedSeries Make(string name, SeriesKind kind, double rate, params (string Name, string Value)[] labels)
    {
        var names = new string[labels.Length + 1];
        var values = new string[labels.Length + 1];
        names[0] = "__name__";
        values[0] = name;
        for (int i = 0; i < labels.Length; i++)
        {
            names[i + 1] = labels[i].Name;
            values[i + 1] = labels[i].Value;
        }
        return new GeneratedSeries(names, values, kind, rate) { Value = kind == SeriesKind.Gauge ? rate * 10 : 0 };
    }
}
