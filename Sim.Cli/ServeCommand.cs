using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Sim.Cli.Lecture;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim serve [--port N] [--open]</c>: the lecture page (docs/lecture.md), served on this
/// machine until Ctrl+C. It binds to 127.0.0.1 unless <c>--host</c> names another address (a
/// lecture hall's network), and prints the page's address.
/// </summary>
internal static class ServeCommand
{
    /// <summary>The port when none is given.</summary>
    public const int DefaultPort = 5080;

    public static Command Build()
    {
        var port = new Option<int>("--port") { Description = "The port to listen on (0: one the system chooses; the address is printed).", DefaultValueFactory = _ => DefaultPort };
        var host = new Option<string>("--host") { Description = "The address to listen on: 127.0.0.1 (this machine only) unless the page must be reached from others.", DefaultValueFactory = _ => "127.0.0.1" };
        var open = new Option<bool>("--open") { Description = "Open the page in the default browser, where there is one." };
        var command = new Command("serve", "The lecture page: traps, exits and phases stepped through in a browser, from the same code as 'virtsim explain' (docs/lecture.md).")
        {
            port, host, open,
        };
        command.SetAction((parse, cancel) => ServeAsync(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(open), cancel));
        return command;
    }

    private static async Task<int> ServeAsync(string hostText, int port, bool open, CancellationToken stop)
    {
        if (!IPAddress.TryParse(hostText, out IPAddress? host))
        {
            return Fail($"'{hostText}' is not an IP address; give one such as 127.0.0.1.");
        }
        if (port is < 0 or > 65535)
        {
            return Fail($"--port must be from 0 to 65535, not {port}.");
        }
        LectureServer server;
        try
        {
            server = await LectureServer.StartAsync(host, port).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"cannot listen on {hostText}:{port}: {e.Message} Give another --port, or 0 for any free one.");
        }
        await using (server.ConfigureAwait(false))
        {
            Console.WriteLine($"virtsim serve: the lecture page is at {server.Address} (Ctrl+C stops it)");
            if (open && !OpenBrowser(server.Address))
            {
                Console.WriteLine("virtsim serve: found no browser to open; open the address above yourself.");
            }
            await server.WaitForShutdownAsync(stop).ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary>Asks the system to open <paramref name="address"/> (xdg-open, open, or the shell on Windows); false when it cannot.</summary>
    private static bool OpenBrowser(Uri address)
    {
        string? opener = OperatingSystem.IsWindows() ? null : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
        try
        {
            if (opener is null)
            {
                using Process? shell = Process.Start(new ProcessStartInfo(address.ToString()) { UseShellExecute = true });
                return shell is not null;
            }
            // xdg-open and open return at once with the browser started, or fail saying why: their words are theirs, the verdict ours.
            using Process? started = Process.Start(new ProcessStartInfo(opener, address.ToString()) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true });
            if (started is null)
            {
                return false;
            }
            _ = started.StandardOutput.ReadToEndAsync();
            _ = started.StandardError.ReadToEndAsync();
            return started.WaitForExit(10_000) && started.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no opener on this machine
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim serve: {message}");
        return 2;
    }
}
