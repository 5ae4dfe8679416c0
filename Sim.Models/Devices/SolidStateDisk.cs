using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A flash SSD: a fixed access latency plus the transfer at the sustained rate. The defaults are
/// the Intel X25-E data sheet figures (SLC, 2008): 75 us read and 85 us write latency, 250 MB/s
/// sustained read and 170 MB/s sustained write.
/// </summary>
/// <remarks>Model: no internal parallelism (one request at a time), no write amplification or garbage collection.</remarks>
public sealed class SolidStateDisk(
    ulong sectors,
    double readLatencyMicroseconds = 75,
    double writeLatencyMicroseconds = 85,
    double readBytesPerSecond = 250e6,
    double writeBytesPerSecond = 170e6) : IStorageMedium
{
    public string Description => $"SSD, {readLatencyMicroseconds} us read / {writeLatencyMicroseconds} us write latency";

    public ulong Sectors => sectors;

    public Tick AccessTime(ulong lba, int count, bool write)
    {
        double seconds = ((write ? writeLatencyMicroseconds : readLatencyMicroseconds) * 1e-6) +
                         (count * 512.0 / (write ? writeBytesPerSecond : readBytesPerSecond));
        return new Tick((ulong)Math.Ceiling(seconds * Tick.PicosecondsPerSecond));
    }
}
