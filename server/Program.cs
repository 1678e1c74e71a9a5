using Amphora.Server;
using Amphora.Server.Config;

if (args.Length > 0 && args[0] == "keys") return await KeysCommand.RunAsync(args[1..]);
if (args.Length > 0 && args[0] is "--version" or "version")
{
    Console.Out.WriteLine(Amphora.Services.BuildInfo.Line);
    return 0;
}

AmphoraConfig config;
try
{
    config = ConfigLoader.Load(args, out bool help);
    if (help)
    {
        Console.Out.Write(ConfigLoader.HelpText());
        return 0;
    }
    // Relative to where the user ran the command (dotnet run included: the project sets RunWorkingDirectory to the
    // invoking directory), made absolute once so that every log line and file path names the same place.
    config.DataDir = Path.GetFullPath(config.DataDir);
    var problems = config.Validate();
    if (problems.Count > 0)
    {
        foreach (var p in problems) Console.Error.WriteLine($"amphora: {p}");
        return 2;
    }
    if (config.CheckConfigOnly)
    {
        var fileProblems = ConfigFileCheck.Run(config);
        foreach (var p in fileProblems) Console.Error.WriteLine($"amphora: {p}");
        if (fileProblems.Count > 0) return 2;
        Console.Out.WriteLine($"amphora: the configuration is valid (--target={config.Target})");
        return 0;
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
