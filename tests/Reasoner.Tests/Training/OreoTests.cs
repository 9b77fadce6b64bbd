using Reasoner.Training.Oreo;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class OreoLossTests
{
    private static Tensor T(double[,] values) => tensor(values, dtype: ScalarType.Float64);

    // One path of two steps: r = (0.2, −0.4), so A = (−0.2, −0.4); V = (0.3, 0.6); R = 1; β = 0.5.
    // Residuals β·A + V − R = (−0.8, −0.6): both losses are (0.64 + 0.36) / 2 = 0.5.
    [Fact]
    public void BothLossesEqualTheMeanSquaredSoftBellmanResidualByHand()
    {
        var ratios = T(new double[,] { { 0.2, -0.4 } });
        var values = T(new double[,] { { 0.3, 0.6 } });
        var rewards = tensor(new[] { 1.0 }, dtype: ScalarType.Float64);
        var mask = T(new double[,] { { 1, 1 } });
        Assert.Equal(0.5, OreoLoss.Value(ratios, values, rewards, mask, 0.5).item<double>(), 12);
        Assert.Equal(0.5, OreoLoss.Policy(ratios, values, rewards, mask, 0.5).item<double>(), 12);
        Assert.Equal(new[] { -0.2, -0.4 }, OreoLoss.ReverseCumsum(ratios, mask).data<double>().ToArray().Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void TheValueLossTrainsOnlyTheValuesAndThePolicyLossOnlyEachStepsOwnRatio()
    {
        var rewards = tensor(new[] { 1.0 }, dtype: ScalarType.Float64);
        var mask = T(new double[,] { { 1, 1 } });

        var ratios = T(new double[,] { { 0.2, -0.4 } }).requires_grad_(true);
        var values = T(new double[,] { { 0.3, 0.6 } }).requires_grad_(true);
        OreoLoss.Value(ratios, values, rewards, mask, 0.5).backward();
        Assert.Null(ratios.grad);
        Assert.Equal(new[] { -0.8, -0.6 }, values.grad!.data<double>().ToArray().Select(v => Math.Round(v, 12))); // 2·residual / 2 states

        ratios = T(new double[,] { { 0.2, -0.4 } }).requires_grad_(true);
        values = T(new double[,] { { 0.3, 0.6 } }).requires_grad_(true);
        OreoLoss.Policy(ratios, values, rewards, mask, 0.5).backward();
        Assert.Null(values.grad);
        // d/dr_0 = 2·(−0.8)·β / 2 (only state 0 sees r_0 with gradient); d/dr_1 = 2·(−0.6)·β / 2.
        Assert.Equal(new[] { -0.4, -0.3 }, ratios.grad!.data<double>().ToArray().Select(v => Math.Round(v, 12)));
    }

    /// <summary>
    /// Finite differences: the value loss in the values everywhere; the policy loss in the ratios where no stop-gradient
    /// hides a path, at each path's first step (later steps' ratios also sit, without gradient, in earlier states' A_{t+1}).
    /// A masked step gets no gradient.
    /// </summary>
    [Fact]
    public void GradientsMatchFiniteDifferencesAndMaskedStepsGetNone()
    {
        var rewards = tensor(new[] { 0.0, 1.0 }, dtype: ScalarType.Float64);
        var mask = T(new double[,] { { 1, 1, 0 }, { 1, 1, 1 } });
        var fixedValues = T(new double[,] { { 0.1, 0.4, 99 }, { 0.5, 0.2, 0.7 } });
        var fixedRatios = T(new double[,] { { 0.3, -0.2, 5.0 }, { 0.1, 0.4, -0.6 } });
        double[] values = [0.1, 0.4, 99, 0.5, 0.2, 0.7], ratios = [0.3, -0.2, 5.0, 0.1, 0.4, -0.6];

        var v = tensor(values, [2, 3], dtype: ScalarType.Float64).requires_grad_(true);
        OreoLoss.Value(fixedRatios, v, rewards, mask, 0.03).backward();
        var r = tensor(ratios, [2, 3], dtype: ScalarType.Float64).requires_grad_(true);
        OreoLoss.Policy(r, fixedValues, rewards, mask, 0.03).backward();
        double[] valueGrad = v.grad!.data<double>().ToArray(), ratioGrad = r.grad!.data<double>().ToArray();
        Assert.Equal(0.0, valueGrad[2]);
        Assert.Equal(0.0, ratioGrad[2]);

        static double Numeric(Func<double[], double> f, double[] at, int i)
        {
            var plus = (double[])at.Clone(); plus[i] += 1e-6;
            var minus = (double[])at.Clone(); minus[i] -= 1e-6;
            return (f(plus) - f(minus)) / 2e-6;
        }
        for (int i = 0; i < values.Length; i++)
            Assert.Equal(Numeric(x => OreoLoss.Value(fixedRatios, tensor(x, [2, 3], dtype: ScalarType.Float64), rewards, mask, 0.03).item<double>(), values, i), valueGrad[i], 6);
        foreach (int i in new[] { 0, 3 })
            Assert.Equal(Numeric(x => OreoLoss.Policy(tensor(x, [2, 3], dtype: ScalarType.Float64), fixedValues, rewards, mask, 0.03).item<double>(), ratios, i), ratioGrad[i], 6);
    }

    [Fact]
    public void TheKlIsZeroForEqualDistributionsAndMatchesTheDefinitionOtherwise()
    {
        var p = tensor(new float[] { 1, 2, 0.5f, 0, 0, 3 }, [1, 2, 3]);
        var q = tensor(new float[] { 0, 2, 1, 1, 1, 1 }, [1, 2, 3]);
        var mask = tensor(new float[] { 1, 0 }, [1, 2]);
        Assert.Equal(0.0, OreoLoss.Kl(p, p, mask).item<float>(), 6);
        double[] lp = Softmax(1, 2, 0.5), lq = Softmax(0, 2, 1);
        double expected = lp.Zip(lq, (a, b) => a * Math.Log(a / b)).Sum();
        Assert.Equal(expected, OreoLoss.Kl(p, q, mask).item<float>(), 5);
    }

    private static double[] Softmax(params double[] x)
    {
        var e = x.Select(Math.Exp).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }
}

public class OreoTrainerTests
{
    /// <summary>Right paths: prompt token 40, steps with token 20; wrong paths: prompt token 41, steps with token 30.</summary>
    private static Reasoner.Training.Oreo.OreoPath[] Paths(int count, int offset = 0) => Enumerable.Range(offset, count)
        .Select(i => i % 2 == 0
            ? new Reasoner.Training.Oreo.OreoPath($"p{i}", [1, 40, 2 + i % 5], [[5, 20, 6], [7, 20, 6]], 1)
            : new Reasoner.Training.Oreo.OreoPath($"p{i}", [1, 41, 2 + i % 5], [[5, 30, 6], [7, 30, 6], [8, 6]], 0))
        .ToArray();

    [Fact]
    public void TheValueHeadLearnsWhichStartsEndRightAndTheLossFalls()
    {
        using var policy = TinyTraining.Model(seed: 4);
        using var reference = TinyTraining.CopyOf(policy);
        policy.AttachValueHead();
        var settings = new OreoSettings { LearningRate = 3e-3, Epochs = 8, Batch = 4, EvalEvery = 1000 };
        var metrics = new List<OreoMetrics>();
        var result = new OreoTrainer(policy, reference, TinyTraining.Pad, settings) { OnStep = (_, _, m) => metrics.Add(m) }.Train(Paths(12), Paths(4, offset: 100));

        Assert.Equal(24, result.Steps);
        Assert.Equal(0.0, metrics[0].Kl, 5); // the policy starts as the reference
        Assert.True(metrics[^1].Loss < metrics[0].Loss, $"loss {metrics[0].Loss:0.000} → {metrics[^1].Loss:0.000}");
        Assert.True(result.EvalAfter!.ValueRight > result.EvalAfter.ValueWrong + 0.5, $"V(s0) right {result.EvalAfter.ValueRight:0.00}, wrong {result.EvalAfter.ValueWrong:0.00}");
        Assert.True(result.EvalAfter.Kl > 0);
    }

    [Fact]
    public void StepTokensStatesAndActionsLineUpWithTheRows()
    {
        using var batch = Reasoner.Training.Oreo.OreoBatch.Collate(Paths(2), TinyTraining.Pad, CPU);
        Assert.Equal([2L, 11L], batch.InputIds.shape); // the wrong path: prompt 3 + steps 3, 3, 2
        // Row 0's states: before step 0 at token 2 (the prompt's last), before step 1 at token 5; the third step is padding.
        Assert.Equal(new long[] { 2, 5, 8, 11 + 2, 11 + 5, 11 + 8 }, batch.StatePositions.data<long>().ToArray());
        Assert.Equal(new float[] { 1, 1, 0, 1, 1, 1 }, batch.StepMask.data<float>().ToArray());
        // Row 1's step 2 is tokens 9 and 10; the positions that predict them are 8 and 9.
        var steps = batch.StepTokens.data<float>().ToArray();
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 }, steps.Skip((1 * 3 + 2) * 11).Take(11));
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, batch.ActionMask.data<float>().Skip(11).Take(11));
    }
}
