using Amphora.Tenancy;

namespace Amphora.Server;

/// <summary>
/// <c>amphora keys create|list|disable|enable|delete</c>: manages access keys in the tenancy state of a filesystem bucket
/// (<c>&lt;data-dir&gt;/bucket</c>, or <c>--blocks.filesystem.dir</c>), as a running amphora on the same bucket shares it;
/// running components see the change within one <c>--tenancy.sync-interval</c>. A cluster on S3 manages keys through the
/// control plane (<c>/workspaces/{id}/keys</c>) with the admin key. The secret is printed once, at creation.
/// </summary>
public static class KeysCommand
{
    public const string Usage = """
        usage: amphora keys create --workspace=ID --actions=aps:RemoteWrite[,aps:QueryMetrics,...] [OPTIONS]
               amphora keys create --admin [OPTIONS]          (a key for every workspace and action)
               amphora keys list [--workspace=ID] [OPTIONS]
               amphora keys disable|enable|delete KEY_ID [OPTIONS]
        options: --data-dir=DIR (default ./data), --auth.master-key-file=FILE (default DIR/master.key),
                 --blocks.filesystem.dir=DIR (the shared filesystem bucket; default DIR/bucket)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h")
        {
            Console.Out.Write(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        string verb = args[0];
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        foreach (var arg in args.Skip(1))
        {
            if (!arg.StartsWith("--", StringComparison.Ordinal)) { positional.Add(arg); continue; }
            int eq = arg.IndexOf('=');
            options[eq < 0 ? arg[2..] : arg[2..eq]] = eq < 0 ? "true" : arg[(eq + 1)..];
        }
        string dataDir = options.GetValueOrDefault("data-dir", "./data");
        string bucketDir = Path.GetFullPath(options.GetValueOrDefault("blocks.filesystem.dir", Path.Combine(dataDir, "bucket")));
        using var tenancy = new TenancyServices(new TenancyOptions
        {
            DataDir = dataDir,
            MasterKeyFile = options.GetValueOrDefault("auth.master-key-file"),
            Bucket = new Amphora.Bucket.FilesystemBucket(bucketDir),
            BucketName = bucketDir,
        });
        try
        {
            await tenancy.Store.SyncAsync();
            foreach (var service in tenancy.Services) await service.StartAsync(CancellationToken.None); // migrates files of earlier versions
            switch (verb)
            {
                case "create":
                {
                    bool admin = options.ContainsKey("admin");
                    string? workspace = options.GetValueOrDefault("workspace");
                    if (!admin && workspace is null) return Fail("keys create needs --workspace=ID (or --admin)");
                    var actions = admin ? ["aps:*"] : options.GetValueOrDefault("actions", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (actions.Length == 0) return Fail("keys create needs --actions=aps:RemoteWrite[,...]");
                    if (workspace is not null && tenancy.Registry.Find(workspace) is null)
                        return Fail($"workspace \"{workspace}\" does not exist (create it with POST /workspaces)");
                    var created = await tenancy.Keys.CreateAsync(admin ? null : workspace, actions);
                    Console.Out.WriteLine($"access key id:     {created.Key.AccessKeyId}");
                    Console.Out.WriteLine($"secret access key: {created.SecretAccessKey}");
                    Console.Out.WriteLine($"workspace:         {created.Key.WorkspaceId ?? "(all)"}");
                    Console.Out.WriteLine($"actions:           {string.Join(",", created.Key.Actions)}");
                    return 0;
                }
                case "list":
                    foreach (var k in tenancy.Keys.List(options.GetValueOrDefault("workspace")))
                        Console.Out.WriteLine($"{k.AccessKeyId}\t{k.WorkspaceId ?? "(all)"}\t{(k.Enabled ? "enabled" : "disabled")}\t{string.Join(",", k.Actions)}");
                    return 0;
                case "disable" or "enable" when positional.Count == 1:
                    await tenancy.Keys.SetEnabledAsync(positional[0], verb == "enable");
                    return 0;
                case "delete" when positional.Count == 1:
                    await tenancy.Keys.DeleteAsync(positional[0]);
                    return 0;
                default:
                    Console.Error.Write(Usage);
                    return 2;
            }
        }
        catch (TenancyException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return Fail($"cannot read the tenancy state in {bucketDir}: {e.Message}");
        }
        finally
        {
            foreach (var service in tenancy.Services.Reverse()) await service.StopAsync(CancellationToken.None);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("amphora keys: " + message);
        return 2;
    }
}
