namespace Sim.Engine.Statistics;

/// <summary>One value of one statistic at the end of a run: a row of the long-format results.</summary>
public readonly record struct StatSample(string Path, string Statistic, double Value, string Unit);
