namespace Sim.Models.Hardware;

/// <summary>One TLB array: entries and ways (ways equal to entries: fully associative).</summary>
public sealed record TlbGeometry(int Entries, int Ways)
{
    public int Sets => Entries / Ways;

    public void Validate(string name)
    {
        if (Entries <= 0 || Ways <= 0 || Entries % Ways != 0)
        {
            throw new ArgumentException($"TLB {name}: {Entries} entries cannot be split into sets of {Ways} ways.");
        }
    }
}
