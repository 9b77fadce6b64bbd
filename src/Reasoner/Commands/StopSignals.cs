using System.Runtime.InteropServices;

namespace Reasoner.Cli.Commands;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM ask a long-running command to stop gracefully by cancelling <c>stop</c>; a second
/// signal is left to the runtime, which ends the process at once (the store's records are CRC-framed, so a torn last
/// record is skipped by readers).
/// </summary>
sealed class StopSignals : IDisposable
{
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _received;

    public StopSignals(CancellationTokenSource stop)
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);

        void Handle(PosixSignalContext context)
        {
            if (Interlocked.Exchange(ref _received, 1) != 0) return;
            context.Cancel = true;
            Received = context.Signal;
            stop.Cancel();
        }
    }

    public PosixSignal? Received { get; private set; }

    /// <summary>The conventional exit code of a process stopped by the signal received: 128 + its number.</summary>
    public int ExitCode => Received == PosixSignal.SIGTERM ? 143 : 130;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }
}
