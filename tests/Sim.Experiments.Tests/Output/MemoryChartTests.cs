using Sim.Experiments.Output;

namespace Sim.Experiments.Tests.Output;

/// <summary>The stacked chart of where host memory goes: a PNG, the same bytes for the same rows.</summary>
public class MemoryChartTests
{
    private static readonly MemoryChart.Row[] Rows =
    [
        new("a VM", [("image's files", 128), ("daemons", 64), ("EPT tables", 0.4)]),
        new("a container", [("daemons", 1.8)]),
    ];

    [Fact]
    public void The_chart_is_a_png_and_the_same_bytes_for_the_same_rows()
    {
        byte[] png = MemoryChart.Png("where the memory goes", Rows);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(png, MemoryChart.Png("where the memory goes", Rows));
        Assert.NotEqual(png, MemoryChart.Png("where the memory goes", [Rows[0]]));
    }
}
