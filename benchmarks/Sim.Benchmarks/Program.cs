using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/Sim.Benchmarks -- --filter '*'
// (see docs/performance.md for the figures and how they were measured).
BenchmarkSwitcher.FromAssembly(typeof(Sim.Benchmarks.HoldBenchmark).Assembly).Run(args, new Sim.Benchmarks.BenchmarkConfig());
