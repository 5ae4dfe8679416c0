using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Sim.Engine.Tests")]
