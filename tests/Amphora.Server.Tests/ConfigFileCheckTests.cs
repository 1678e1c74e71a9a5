using Amphora.Server.Config;
using Xunit;

namespace Amphora.Server.Tests;

/// <summary>--check-config reads the key files a process would read at start, and names the flag of one it would refuse.</summary>
public sealed class ConfigFileCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-check-").FullName;

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Key_files_in_the_formats_amphora_reads_pass()
    {
        string master = Write("master.key", Convert.ToBase64String(new byte[32]));
        string admin = Write("admin-key.json", """{"accessKeyId": "AMPADMIN0123456789AB", "secretAccessKey": "abcdefghijklmnopqrstuvwxyz0123456789ABCD"}""");
        var config = ConfigLoader.Load([$"--auth.master-key-file={master}", $"--auth.admin-key-file={admin}"], out _);
        Assert.Empty(config.Validate());
        Assert.Empty(ConfigFileCheck.Run(config));
        // A master key file that does not exist yet is written by the first start.
        Assert.Empty(ConfigFileCheck.Run(ConfigLoader.Load([$"--auth.master-key-file={Path.Combine(_dir, "new.key")}"], out _)));
    }

    [Theory]
    [InlineData("--auth.master-key-file", "master.key", "not a key")]
    [InlineData("--auth.admin-key-file", "admin-key.json", """{"accessKeyId": "has spaces in it", "secretAccessKey": "abcdefghijklmnopqrstuvwxyz"}""")]
    [InlineData("--auth.admin-key-file", "admin-key.json", "accessKeyId: [")]
    public void A_key_file_amphora_would_refuse_at_start_is_refused_naming_its_flag(string flag, string file, string content)
    {
        string path = Write(file, content);
        var problem = Assert.Single(ConfigFileCheck.Run(ConfigLoader.Load([$"{flag}={path}"], out _)));
        Assert.StartsWith($"{flag}: ", problem);
        Assert.Contains(path, problem);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
