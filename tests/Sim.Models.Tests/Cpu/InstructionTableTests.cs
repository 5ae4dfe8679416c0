using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Models.Tests.Cpu;

public class InstructionTableTests
{
    [Fact]
    public void Every_instruction_has_exactly_one_row()
    {
        Assert.Equal(Enum.GetValues<Instruction>().Length, InstructionTable.All.Count);
        Assert.All(Enum.GetValues<Instruction>(), i => Assert.Equal(i, InstructionTable.Of(i).Instruction));
    }

    [Fact]
    public void The_holes_are_the_sensitive_unprivileged_instructions_of_Robin_and_Irvine_plus_IRET()
    {
        Instruction[] holes = [.. InstructionTable.All.Where(i => i.IsVirtualizationHole).Select(i => i.Instruction)];
        Instruction[] expected =
        [
            Instruction.IntN, Instruction.Iret, Instruction.Pushf, Instruction.Popf,
            Instruction.Sgdt, Instruction.Sidt, Instruction.Sldt, Instruction.Str, Instruction.Smsw,
            Instruction.Lar, Instruction.Lsl, Instruction.Verr, Instruction.Verw,
            Instruction.PushSegment, Instruction.PopSegment, Instruction.MovSegment, Instruction.FarCall, Instruction.FarJmp, Instruction.FarRet,
        ];
        Assert.Equal(expected.Order(), holes.Order());
        Assert.All(holes, h => Assert.False(InstructionTable.Of(h).Privileged));
    }

    [Theory]
    [InlineData(Instruction.Cpuid, VtxBehaviour.AlwaysExits, ExitReason.Cpuid)]
    [InlineData(Instruction.Vmcall, VtxBehaviour.AlwaysExits, ExitReason.Vmcall)]
    [InlineData(Instruction.Hlt, VtxBehaviour.ExitsUnderControl, ExitReason.Hlt)]
    [InlineData(Instruction.Out, VtxBehaviour.ExitsUnderControl, ExitReason.IoInstruction)]
    [InlineData(Instruction.MovToCr3, VtxBehaviour.ExitsUnderControl, ExitReason.ControlRegisterAccess)]
    [InlineData(Instruction.Invlpg, VtxBehaviour.ExitsUnderControl, ExitReason.Invlpg)]
    public void Exiting_instructions_name_their_exit_reason(Instruction i, VtxBehaviour vtx, ExitReason reason)
    {
        InstructionInfo row = InstructionTable.Of(i);
        Assert.Equal(vtx, row.Vtx);
        Assert.Equal(reason, row.Exit);
        Assert.Equal(vtx == VtxBehaviour.ExitsUnderControl, row.Control is not null);
    }

    [Fact]
    public void Instructions_that_never_exit_name_no_reason() =>
        Assert.All(InstructionTable.All.Where(i => i.Vtx == VtxBehaviour.NeverExits), i => Assert.Null(i.Exit));

    [Fact]
    public void Exit_reasons_carry_the_SDM_numbers()
    {
        Assert.Equal(10, (int)ExitReason.Cpuid);
        Assert.Equal(12, (int)ExitReason.Hlt);
        Assert.Equal(28, (int)ExitReason.ControlRegisterAccess);
        Assert.Equal(30, (int)ExitReason.IoInstruction);
        Assert.Equal(48, (int)ExitReason.EptViolation);
    }
}
