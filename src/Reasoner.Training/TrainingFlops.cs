using System.Diagnostics;
using Reasoner.Models;
using static TorchSharp.torch;

namespace Reasoner.Training;

/// <summary>
/// What a training step computes and what the machine could: model FLOPs as in PaLM (Chowdhery et al. 2022, appendix B),
/// 6·N per token for the weights' forward and backward matmuls plus 12·L·d·T per token for attention over a T-token
/// sequence, counted over real (non-padding) tokens; and the peak, a large fp32 matmul timed on the same device with
/// the same threads. Their ratio is the model FLOPs utilisation (MFU).
/// </summary>
public static class TrainingFlops
{
    /// <summary>FLOPs of one forward and backward pass over sequences of the given lengths (padding not counted).</summary>
    public static double ForSequences(ModelConfig config, long parameters, IEnumerable<int> lengths)
    {
        double attentionPerTokenPosition = 12.0 * config.NumHiddenLayers * config.NumAttentionHeads * config.HeadDim;
        double total = 0;
        foreach (var t in lengths) total += 6.0 * parameters * t + attentionPerTokenPosition * t * (double)t;
        return total;
    }

    /// <summary>
    /// Peak matmul FLOP/s in <paramref name="dtype"/> (fp32 by default): the fastest of <paramref name="repeats"/> products
    /// of two n×n matrices (2n³ FLOPs each) after a warm-up, on <paramref name="device"/> with libtorch's current thread count.
    /// </summary>
    public static double MeasureMatmulPeak(Device? device = null, int n = 1024, int repeats = 8, ScalarType dtype = ScalarType.Float32)
    {
        using var probe = new MatmulPeakProbe(device, n, dtype);
        return probe.Measure(repeats);
    }
}

/// <summary>
/// Two n×n matrices kept for timing their product again and again (<see cref="TrainingFlops.MeasureMatmulPeak"/>,
/// <see cref="WindowedPeak"/>). Their values come from a generator of their own, so measuring never moves libtorch's
/// global random stream that a training run seeds.
/// </summary>
public sealed class MatmulPeakProbe : IDisposable
{
    private readonly Tensor a, b;
    private readonly int n;

    public MatmulPeakProbe(Device? device = null, int n = 1024, ScalarType dtype = ScalarType.Float32)
    {
        this.n = n;
        using var generator = new Generator(seed: 1);
        using var scope = NewDisposeScope();
        a = randn([n, n], generator: generator).to(dtype, device ?? CPU).MoveToOuterDisposeScope();
        b = randn([n, n], generator: generator).to(dtype, device ?? CPU).MoveToOuterDisposeScope();
    }

    /// <summary>FLOP/s of the fastest of <paramref name="repeats"/> products after two warm-ups, with the calling thread's threads.</summary>
    public double Measure(int repeats = 8)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < 2; i++) matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using var product = matmul(a, b);
            if (product.device_type != TorchSharp.DeviceType.CPU) cuda.synchronize();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * (double)n / best;
    }

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
    }
}

/// <summary>
/// The matmul peak measured again right after each window of training, so that a window's utilisation is against what
/// the machine could do at that time. On a shared host the peak drifts far: the same 1024-square bf16 product on two
/// threads measured 1,055.6 GFLOP/s in one run and 424.7–439.3 in runs of another day, while training itself slowed
/// by less, so one measurement at the start (or the faster of start and end) says more about that moment than about the
/// run. The run's peak is the windows' peaks weighted by their training seconds.
/// </summary>
/// <param name="measure">The peak now, in FLOP/s (a <see cref="MatmulPeakProbe"/>'s).</param>
public sealed class WindowedPeak(Func<double> measure)
{
    private double weightedPeak, seconds, fastest;

    /// <summary>Measures the peak now, for a window of <paramref name="windowSeconds"/> of training just ended.</summary>
    public double AfterWindow(double windowSeconds)
    {
        double peak = measure();
        fastest = Math.Max(fastest, peak);
        weightedPeak += peak * windowSeconds;
        seconds += windowSeconds;
        return peak;
    }

    /// <summary>The windows' peaks weighted by their seconds; 0 before any window.</summary>
    public double TimeWeighted => seconds > 0 ? weightedPeak / seconds : 0;

    /// <summary>The fastest peak of any window; 0 before any window.</summary>
    public double Fastest => fastest;
}
