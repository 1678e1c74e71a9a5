using System.Security.Cryptography;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Access;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>The amphora processes of one multi-process test and the folder they share, stopped and removed together.</summary>
public sealed class ProcessGroup(string dirPrefix) : IDisposable
{
    private readonly List<AmphoraProcess> _processes = [];

    public string Dir { get; } = RepoPaths.NewTempDir(dirPrefix);

    /// <summary>Starts an amphora with a data dir of its own.</summary>
    public AmphoraProcess Start(string[] args)
    {
        var p = AmphoraProcess.Start(null, null, args);
        _processes.Add(p);
        return p;
    }

    /// <summary>Writes the files every component of a cluster with access keys shares: a master key and an admin key file;
    /// returns their flags and the admin key.</summary>
    public (string[] Flags, Key Admin) WriteSharedKeys()
    {
        string masterKey = Path.Combine(Dir, "master.key");
        File.WriteAllText(masterKey, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n");
        var admin = new Key("AMPHORAADMIN01", "admin-secret-" + Guid.NewGuid().ToString("N"));
        string adminFile = Path.Combine(Dir, "admin-key.json");
        File.WriteAllText(adminFile, JsonSerializer.Serialize(new { accessKeyId = admin.Id, secretAccessKey = admin.Secret }));
        return (["--auth=keys", $"--auth.master-key-file={masterKey}", $"--auth.admin-key-file={adminFile}"], admin);
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited) p.TerminateAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
            p.Dispose();
        }
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
