using Sim.Engine.Randomness;
using Sim.Engine.Time;

namespace Sim.Models.Devices;

/// <summary>
/// A rotating disk: a request that does not continue the previous one pays the average seek and
/// a rotational delay drawn uniformly from one revolution (from the disk's own random stream),
/// then every request pays the transfer at the media rate. The defaults stand for a 7,200 rpm
/// desktop drive of the 2006-2010 period: one revolution 8.33 ms (from the spindle speed), an
/// average seek of 8.5 ms and a media rate of 100 MB/s (typical data sheet values, assumed).
/// </summary>
/// <remarks>Model: the seek does not depend on distance; sequential requests hit the track buffer (no seek, no rotation); no command queueing.</remarks>
public sealed class RotatingDisk(
    ulong sectors,
    RandomStream random,
    double averageSeekMilliseconds = 8.5,
    double rpm = 7_200,
    double mediaBytesPerSecond = 100e6) : IStorageMedium
{
    private ulong _nextSequentialLba = ulong.MaxValue;

    public string Description => $"rotating disk, {rpm} rpm, {averageSeekMilliseconds} ms average seek";

    public ulong Sectors => sectors;

    /// <summary>One head, one request at a time: the medium is busy for the whole access (NCQ's reordering is not modelled).</summary>
    public MediumAccess Access(ulong lba, int count, bool write)
    {
        ArgumentNullException.ThrowIfNull(random);
        double seconds = count * 512.0 / mediaBytesPerSecond;
        if (lba != _nextSequentialLba)
        {
            seconds += (averageSeekMilliseconds * 1e-3) + (random.NextDouble() * 60.0 / rpm);
        }
        _nextSequentialLba = lba + (ulong)count;
        var time = new Tick((ulong)Math.Ceiling(seconds * Tick.PicosecondsPerSecond));
        return new MediumAccess(time, time);
    }
}
