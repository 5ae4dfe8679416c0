namespace Sim.Models.Kernel;

/// <summary>The character devices the kernel model has (Linux's drivers/char/mem.c).</summary>
public enum CharacterDevice
{
    /// <summary>Not a device: a regular file.</summary>
    None,

    /// <summary>/dev/null: reads return end of file, writes are discarded and succeed.</summary>
    Null,

    /// <summary>/dev/zero: reads fill the buffer with zeros, writes are discarded and succeed.</summary>
    Zero,
}
