namespace Sim.Workloads;

/// <summary>A figure of merit: its name, value and unit.</summary>
public sealed record Metric(string Name, double Value, string Unit);
