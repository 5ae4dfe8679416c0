using Sim.Models.Cpu;

namespace Sim.Experiments.Calibration;

/// <summary>The measured cost of one nanobenchmark operation, in cycles, in all and by category.</summary>
public sealed record NanobenchmarkResult(string Benchmark, string Profile, double CyclesPerOperation, IReadOnlyDictionary<CycleCategory, double> CyclesByCategory);
