using System.Security.Cryptography;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;

namespace Amphora.Chart.Tests;

/// <summary>
/// Stands in for what Kubernetes gives a rendered pod: the Secret files under <c>/etc/amphora</c>, the <c>/data</c> and
/// <c>/bucket</c> volumes (temporary folders) and <c>$(POD_NAME)</c>, so its arguments can be run on this machine. Given
/// a rendering, the files hold what the chart's generated Secrets hold (so their formats are checked too).
/// </summary>
public sealed class PodMounts : IDisposable
{
    public string Root { get; } = RepoPaths.NewTempDir("amphora-pod");
    public string AdminKeyId { get; }
    public string AdminSecret { get; }
    public string Bucket => Path.Combine(Root, "bucket");

    public PodMounts(ChartRenderer.Rendering? rendered = null)
    {
        if (rendered is null)
        {
            AdminKeyId = "AMPADMINCHARTTEST01";
            AdminSecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            Write("etc/amphora/master-key/master.key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            Write("etc/amphora/admin-key/admin-key.json",
                JsonSerializer.Serialize(new Dictionary<string, string> { ["accessKeyId"] = AdminKeyId, ["secretAccessKey"] = AdminSecret }));
            Write("etc/amphora/cluster-secret/secret", Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        }
        else
        {
            Write("etc/amphora/master-key/master.key", SecretData(rendered, "-master-key", "master.key"));
            string admin = SecretData(rendered, "-admin-key", "admin-key.json");
            Write("etc/amphora/admin-key/admin-key.json", admin);
            Write("etc/amphora/cluster-secret/secret", SecretData(rendered, "-cluster-secret", "secret"));
            using var json = JsonDocument.Parse(admin);
            AdminKeyId = json.RootElement.GetProperty("accessKeyId").GetString()!;
            AdminSecret = json.RootElement.GetProperty("secretAccessKey").GetString()!;
        }
        Directory.CreateDirectory(Bucket);
    }

    /// <summary>The decoded value of <paramref name="key"/> in the rendered Secret whose name ends with <paramref name="suffix"/>.</summary>
    private static string SecretData(ChartRenderer.Rendering rendered, string suffix, string key)
    {
        var secret = rendered.Objects.Single(o => o.Kind == "Secret" && o.Name.EndsWith(suffix, StringComparison.Ordinal));
        string encoded = secret.Path("data", key)?.ToString() ?? throw new InvalidOperationException($"{secret} has no data.{key}");
        return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
    }

    private void Write(string relative, string content)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>The rendered arguments with the pod's paths and name replaced by this machine's; <c>/data</c> is per pod.</summary>
    public List<string> Map(IEnumerable<string> args, string podName)
    {
        string data = Path.Combine(Root, "data", podName);
        Directory.CreateDirectory(data);
        return args.Select(a => a
                .Replace("$(POD_NAME)", podName, StringComparison.Ordinal)
                .Replace("=/etc/amphora/", $"={Root}/etc/amphora/", StringComparison.Ordinal)
                .Replace("=/data", $"={data}", StringComparison.Ordinal)
                .Replace("=/bucket", $"={Bucket}", StringComparison.Ordinal))
            .ToList();
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
