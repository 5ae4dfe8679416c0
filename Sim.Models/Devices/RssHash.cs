namespace Sim.Models.Devices;

/// <summary>
/// Receive-side scaling's Toeplitz hash (Microsoft's RSS specification, "RSS Hashing Functions"),
/// which a multi-queue NIC computes over a frame's addresses and ports to pick its queue.
/// </summary>
public static class RssHash
{
    /// <summary>
    /// The 40-byte key of Microsoft's "Verifying the RSS Hash Calculation", used as the NIC's key.
    /// Linux fills its key at random at boot (netdev_rss_key_fill); a fixed one keeps runs
    /// reproducible, and which flows share a queue depends on it as it would on any other.
    /// </summary>
    public static ReadOnlySpan<byte> VerificationKey =>
    [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
        0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    /// <summary>
    /// The Toeplitz hash of <paramref name="input"/> (source address, destination address, then
    /// source and destination ports, in network byte order) under <paramref name="key"/>: for each
    /// input bit that is set, from the first byte's most significant, the 32 key bits starting at
    /// that bit's position are XORed into the result.
    /// </summary>
    public static uint Toeplitz(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        if (key.Length < input.Length + 4)
        {
            throw new ArgumentException($"A key of {key.Length} bytes hashes at most {key.Length - 4} bytes of input (got {input.Length}).", nameof(key));
        }
        uint result = 0;
        uint window = (uint)((key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3]);
        for (int i = 0; i < input.Length; i++)
        {
            for (int bit = 7; bit >= 0; bit--)
            {
                if ((input[i] & (1 << bit)) != 0)
                {
                    result ^= window;
                }
                window = (window << 1) | (uint)((key[i + 4] >> bit) & 1);
            }
        }
        return result;
    }
}
