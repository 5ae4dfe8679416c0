namespace Sim.Models.Kernel;

public enum ProcessState
{
    Ready,
    Running,
    Waiting,
    Zombie,
}
