using Sim.Engine;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Devices;

/// <summary>
/// A machine whose kernel is the test: device accesses go to the machine's bus, an exception or a
/// system call fails the test, and each interrupt runs the rig's handler body, then the EOI write
/// to the local APIC and IRET.
/// </summary>
internal abstract class DeviceRig : ICoreHost
{
    protected DeviceRig(HardwareProfile profile, MachineConfiguration configuration)
    {
        Sim = new Simulator(1);
        Machine = new Machine(Sim, profile, configuration, _ => this);
        Core = Machine.Cores[0];
    }

    public Simulator Sim { get; }

    public Machine Machine { get; }

    public Core Core { get; }

    /// <summary>The handler's work before its EOI.</summary>
    protected abstract IEnumerable<Op> Handle(int vector);

    public IOpStream OnInterrupt(Core core, int vector) =>
        new OpSequence([.. Handle(vector), Op.MmioWrite(LocalApic.DefaultBase + 0xB0, 0), Op.Execute(Instruction.Iret)]);

    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress) =>
        throw new InvalidOperationException($"unexpected {vector}");

    public IOpStream OnSyscall(Core core, ulong number) => throw new InvalidOperationException($"unexpected system call {number}");

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        Machine.DeviceAccess(core, instruction, address, value, out readValue);

    public IOpStream? OnStreamEnd(Core core) => null;
}
