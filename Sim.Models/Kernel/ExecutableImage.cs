namespace Sim.Models.Kernel;

/// <summary>
/// A program exec can start: the file holding its text (mapped read-only from the page cache),
/// the sizes of its data, heap and stack (demand-zero), and the program it runs.
/// </summary>
public sealed record ExecutableImage(string Name, int TextFileId, ulong DataPages, ulong HeapPages, ulong StackPages, Func<IProgram> Program)
{
    public const ulong TextBase = 0x0000_0000_0040_0000;
    public const ulong DataBase = 0x0000_0000_1000_0000;
    public const ulong HeapBase = 0x0000_0000_2000_0000;
    public const ulong StackBase = 0x0000_7FFF_FF00_0000;
}
