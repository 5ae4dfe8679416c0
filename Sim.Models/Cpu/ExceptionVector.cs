namespace Sim.Models.Cpu;

/// <summary>The exception vectors the model raises (Intel SDM Vol. 3A, Table 6-1).</summary>
public enum ExceptionVector
{
    DivideError = 0,
    InvalidOpcode = 6,
    GeneralProtection = 13,
    PageFault = 14,
}
