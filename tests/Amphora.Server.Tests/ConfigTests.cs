using Amphora.Server.Config;
using Xunit;

namespace Amphora.Server.Tests;

public sealed class ConfigTests
{
    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var c = ConfigLoader.Load([], out bool help);
        Assert.False(help);
        Assert.Equal("all", c.Target);
        Assert.Equal("127.0.0.1:9009", c.Listen);
        Assert.Equal("./data", c.DataDir);
        Assert.Equal(AuthMode.Keys, c.Auth);
        Assert.Empty(c.Validate());
    }

    [Fact]
    public void Help_lists_every_option_with_its_default_and_help()
    {
        string help = ConfigLoader.HelpText();
        foreach (var o in Options.All)
        {
            Assert.Contains("--" + o.Flag, help);
            Assert.Contains(o.Help, help);
            if (o.Default.Length > 0) Assert.Contains($"(default: {o.Default})", help);
        }
    }

    [Fact]
    public void Flags_override_the_yaml_file_and_every_flag_has_a_yaml_key()
    {
        string file = Path.Combine(Path.GetTempPath(), $"amphora-config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(file, """
            target: all
            listen: 127.0.0.1:9100
            data_dir: /var/lib/amphora
            wal:
              fsync: batch
            query:
              lookback_delta: 2m
            validation:
              max_label_names_per_series: 40
            """);
        try
        {
            var c = ConfigLoader.Load([$"--config={file}", "--listen", "127.0.0.1:9200"], out _);
            Assert.Equal("127.0.0.1:9200", c.Listen);
            Assert.Equal("/var/lib/amphora", c.DataDir);
            Assert.Equal("batch", c.WalFsync);
            Assert.Equal(TimeSpan.FromMinutes(2), c.LookbackDelta);
            Assert.Equal(40, c.MaxLabelNamesPerSeries);
        }
        finally
        {
            File.Delete(file);
        }
        foreach (var o in Options.All)
            Assert.Same(o, Options.FindByYamlPath(o.YamlPath));
    }

    [Fact]
    public void An_unknown_yaml_key_is_an_error_naming_the_key()
    {
        var c = new AmphoraConfig();
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.ApplyYaml(c, "wal:\n  fsink: always\n", "amphora.yml"));
        Assert.Contains("unknown configuration key \"wal.fsink\"", e.Message);
        e = Assert.Throws<ConfigException>(() => ConfigLoader.ApplyYaml(c, "listn: 1\n", "amphora.yml"));
        Assert.Contains("\"listn\"", e.Message);
    }

    [Fact]
    public void An_unknown_flag_or_a_bad_value_is_an_error_naming_it()
    {
        Assert.Contains("--lisen", Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--lisen=1"], out _)).Message);
        Assert.Contains("--query.timeout", Assert.Throws<ConfigException>(() => ConfigLoader.Load(["--query.timeout=soon"], out _)).Message);
    }

    [Theory]
    [InlineData("0.0.0.0:9009")]
    [InlineData("10.1.2.3:9009")]
    [InlineData("[::]:9009")]
    public void Auth_none_refuses_a_non_loopback_listen_address(string listen)
    {
        var c = ConfigLoader.Load(["--auth=none", $"--listen={listen}"], out _);
        var problem = Assert.Single(c.Validate());
        Assert.Contains("--auth=none", problem);
        Assert.Contains("loopback", problem);
    }

    [Theory]
    [InlineData("127.0.0.1:9009")]
    [InlineData("localhost:0")]
    [InlineData("[::1]:9009")]
    public void Auth_none_accepts_loopback_addresses(string listen) =>
        Assert.Empty(ConfigLoader.Load([$"--listen={listen}"], out _).Validate());

    [Fact]
    public void An_unknown_target_is_rejected_with_the_list_of_targets()
    {
        var problem = Assert.Single(ConfigLoader.Load(["--target=ruler2"], out _).Validate());
        Assert.Contains("all, distributor, ingester, querier, query-frontend, compactor", problem);
    }

    [Fact]
    public void A_query_frontend_needs_the_queriers_address_and_the_admin_key_it_sends_queries_with()
    {
        var problems = ConfigLoader.Load(["--target=query-frontend"], out _).Validate();
        Assert.Contains(problems, p => p.Contains("--query-frontend.downstream-url"));
        Assert.Contains(problems, p => p.Contains("--auth.admin-key-file"));
        Assert.Empty(ConfigLoader.Load(["--target=query-frontend", "--auth=none", "--query-frontend.downstream-url=http://querier:9009"], out _)
            .Validate());
        Assert.Contains(ConfigLoader.Load(["--target=query-frontend", "--auth=none", "--query-frontend.downstream-url=querier:9009"], out _)
            .Validate(), p => p.Contains("--query-frontend.downstream-url"));
    }

    [Fact]
    public void An_alertmanager_binary_that_does_not_exist_is_rejected_naming_the_option()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-alertmanager-{Guid.NewGuid():N}");
        var problem = Assert.Single(ConfigLoader.Load(["--target=alertmanager", $"--alertmanager.binary={missing}"], out _).Validate());
        Assert.Contains($"--alertmanager.binary \"{missing}\" does not exist", problem);
        Assert.Contains("alertmanager", ConfigLoader.HelpText());
    }

    [Fact]
    public void An_unknown_otlp_translation_strategy_is_rejected_with_the_list_and_promoted_attributes_are_split()
    {
        var problem = Assert.Single(ConfigLoader.Load(["--otlp.translation-strategy=Underscores"], out _).Validate());
        Assert.Contains("invalid --otlp.translation-strategy \"Underscores\": must be UnderscoreEscapingWithSuffixes", problem);
        var c = ConfigLoader.Load(["--otlp.translation-strategy=NoTranslation", "--otlp.promote-resource-attributes= a.b ,c,"], out _);
        Assert.Empty(c.Validate());
        Assert.Equal(["a.b", "c"], c.OtlpPromotedAttributes());
    }

    [Theory]
    [InlineData("--tsdb.block-range=1m", "--ingester.out-of-order-window (00:01:00) must be at most half of --tsdb.block-range")]
    [InlineData("--compactor.block-ranges=2h,5h", "invalid --compactor.block-ranges")]
    [InlineData("--compactor.block-ranges=1h,12h", "must start with the ingesters' --tsdb.block-range")]
    [InlineData("--tsdb.local-retention=1m", "must be shorter than --tsdb.local-retention")]
    [InlineData("--blocks.storage=s3", "--blocks.storage=s3 needs --blocks.s3.bucket")]
    [InlineData("--blocks.s3.access-key=AKIA", "--blocks.s3.access-key and --blocks.s3.secret-key go together")]
    [InlineData("--compactor.members=c1,c2", "must include this compactor's --compactor.name")]
    [InlineData("--blocks.s3.endpoint=minio:9000", "invalid --blocks.s3.endpoint")]
    public void Block_storage_settings_that_would_lose_or_hide_data_are_refused(string flag, string message)
    {
        var problems = ConfigLoader.Load([flag], out _).Validate();
        Assert.Contains(problems, p => p.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_small_block_range_is_valid_with_matching_window_and_compactor_ranges() =>
        Assert.Empty(ConfigLoader.Load(["--tsdb.block-range=1m", "--ingester.out-of-order-window=30s", "--compactor.block-ranges=1m,5m",
            "--compactor.interval=10s", "--blocks.sync-interval=10s", "--tsdb.local-retention=1m"], out _).Validate());

    [Theory]
    [InlineData("1h30m", 90 * 60)]
    [InlineData("15s", 15)]
    [InlineData("0", 0)]
    [InlineData("2d", 2 * 86400)]
    public void Durations_use_prometheus_syntax(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ValueParsers.Duration(text));

    [Theory]
    [InlineData("10MiB", 10L << 20)]
    [InlineData("512KiB", 512L << 10)]
    [InlineData("1000", 1000)]
    public void Sizes_accept_units(string text, long bytes) => Assert.Equal(bytes, ValueParsers.Bytes(text));
}
