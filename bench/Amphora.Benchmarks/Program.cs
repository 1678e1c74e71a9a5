using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Amphora.Benchmarks -- --filter '*'   (BenchmarkDotNet's own options)
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
