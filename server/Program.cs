using Amphora.Server;
using Amphora.Server.Config;

if (args.Length > 0 && args[0] == "keys") return KeysCommand.Run(args[1..]);

AmphoraConfig config;
try
{
    config = ConfigLoader.Load(args, out bool help);
    if (help)
    {
        Console.Out.Write(ConfigLoader.HelpText());
        return 0;
    }
    var problems = config.Validate();
    if (problems.Count > 0)
    {
        foreach (var p in problems) Console.Error.WriteLine($"amphora: {p}");
        return 2;
    }
}
catch (ConfigException e)
{
    Console.Error.WriteLine($"amphora: {e.Message}");
    return 2;
}

try
{
    return await AmphoraHost.RunAsync(config);
}
catch (ConfigException e)
{
    Console.Error.WriteLine($"amphora: {e.Message}");
    return 2;
}
