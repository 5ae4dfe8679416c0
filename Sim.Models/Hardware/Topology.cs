namespace Sim.Models.Hardware;

/// <summary>
/// How a machine's processors are put together: sockets, cores per socket and hardware threads
/// per core. A profile's topology is the largest machine built from that part (a two-socket
/// board of it); a machine may use fewer cores.
/// </summary>
/// <remarks>
/// Cores are numbered socket by socket: core <c>i</c> sits on socket <c>i / CoresPerSocket</c>,
/// so a machine that uses its first <c>n</c> cores fills one socket before it needs the next.
/// </remarks>
public sealed record Topology(int Sockets, int CoresPerSocket, int ThreadsPerCore)
{
    public int Cores => Sockets * CoresPerSocket;

    /// <summary>The socket that holds core <paramref name="core"/>.</summary>
    public int SocketOf(int core) => core / CoresPerSocket;

    /// <summary>The sockets the first <paramref name="cores"/> cores occupy.</summary>
    public int SocketsFor(int cores) => (cores + CoresPerSocket - 1) / CoresPerSocket;

    public void Validate(string profile)
    {
        if (Sockets < 1 || CoresPerSocket < 1 || ThreadsPerCore < 1)
        {
            throw new ArgumentException($"Profile {profile}: a topology has at least one socket, one core per socket and one thread per core (got {this}).");
        }
    }

    public override string ToString() => $"{Sockets} socket(s) x {CoresPerSocket} core(s) x {ThreadsPerCore} thread(s)";
}
