using Sim.Models.Cpu;
using Sim.Models.Paging;

namespace Sim.Models.Tests.Cpu;

/// <summary>A host with no kernel, for cores that run operation streams with no traps: any system call, fault, interrupt or device access fails the test.</summary>
internal sealed class BareHost : ICoreHost
{
    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress) => throw new InvalidOperationException($"{vector} at {faultAddress:X}");

    public IOpStream OnSyscall(Core core, ulong number) => throw new InvalidOperationException();

    public IOpStream OnInterrupt(Core core, int vector) => throw new InvalidOperationException();

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) => throw new InvalidOperationException();

    public IOpStream? OnStreamEnd(Core core) => null;
}
