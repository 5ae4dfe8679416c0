namespace Sim.Models.Kernel;

/// <summary>
/// A program exec can start: the file holding its text (mapped read-only from the page cache),
/// the sizes of its data, heap and stack (demand-zero), and the program it runs. The constants
/// are the user address layout every process here shares, the one a non-PIE x86-64 Linux
/// program gets without address-space randomisation.
/// </summary>
public sealed record ExecutableImage(string Name, int TextFileId, ulong DataPages, ulong HeapPages, ulong StackPages, Func<IProgram> Program)
{
    /// <summary>GNU ld's default text-segment address for x86-64 (-Ttext-segment 0x400000); text up to 2 MiB fits below the data.</summary>
    public const ulong TextBase = 0x0000_0000_0040_0000;

    /// <summary>Data one ld max-page-size (0x200000 on x86-64) above the text, where ld places it.</summary>
    public const ulong DataBase = 0x0000_0000_0060_0000;

    /// <summary>The heap at a round address well clear of the data (brk's start is randomised on real Linux).</summary>
    public const ulong HeapBase = 0x0000_0000_2000_0000;

    /// <summary>The stack's lowest page 1 MiB under the top of the 47-bit user half, so up to 256 stack pages fit.</summary>
    public const ulong StackBase = 0x0000_7FFF_FFF0_0000;
}
