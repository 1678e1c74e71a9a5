using Amphora.Tenancy;

namespace Amphora.Server;

/// <summary>
/// <c>amphora keys create|list|disable|enable|delete</c>: manages access keys in the data dir. A running amphora picks the
/// change up by itself (it reloads the key file). The secret is printed once, at creation.
/// </summary>
public static class KeysCommand
{
    public const string Usage = """
        usage: amphora keys create --workspace=ID --actions=aps:RemoteWrite[,aps:QueryMetrics,...] [--data-dir=DIR] [--auth.master-key-file=FILE]
               amphora keys create --admin [--data-dir=DIR]          (a key for every workspace and action)
               amphora keys list [--workspace=ID] [--data-dir=DIR]
               amphora keys disable|enable|delete KEY_ID [--data-dir=DIR]
        """;

    public static int Run(string[] args)
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
        using var tenancy = new TenancyServices(new TenancyOptions
        {
            DataDir = options.GetValueOrDefault("data-dir", "./data"),
            MasterKeyFile = options.GetValueOrDefault("auth.master-key-file"),
        });
        try
        {
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
                    var created = tenancy.Keys.Create(admin ? null : workspace, actions);
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
                    tenancy.Keys.SetEnabled(positional[0], verb == "enable");
                    return 0;
                case "delete" when positional.Count == 1:
                    tenancy.Keys.Delete(positional[0]);
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
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("amphora keys: " + message);
        return 2;
    }
}
