using Reasoner.Models.Backends;
using Reasoner.Models.Generation;

namespace Reasoner.Tests.Generation;

/// <summary>
/// Several engine loops over one set of weights: a request gives on any replica what it gives on one engine alone,
/// requests spread over the replicas under load, and a prompt's extensions stay on the replica that served it.
/// </summary>
public class EngineReplicasTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private static readonly CompletionRequest[] Mixed = CrossRequestBatchingTests.Mixed;

    [Fact]
    public async Task ConcurrentRequestsGiveOnTheReplicasWhatEachGivesOnOneEngineAlone()
    {
        var expected = await CrossRequestBatchingTests.Alone(checkpoint, Mixed);

        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2);
        var actual = await Task.WhenAll(Mixed.Select(r => replicas.CompleteAsync(r)));
        for (int r = 0; r < Mixed.Length; r++) CompletionAssert.Same(expected[r], actual[r]);
        // Six requests at once: the load spreads them over both replicas.
        Assert.Equal(Mixed.Length, replicas.RequestsRouted.Sum());
        Assert.All(replicas.RequestsRouted, n => Assert.True(n > 0));
    }

    [Fact]
    public async Task APromptsExtensionGoesToTheReplicaThatServedItEvenWhenBusier()
    {
        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2);
        var parent = new CompletionRequest(TinyCheckpoint.Prompt, 2, MaxTokens: 8) { Seed = 1 };
        var other = new CompletionRequest("Question: Is (true and not false) or false?", 1, MaxTokens: 8) { Seed = 2 };
        var child = new CompletionRequest(TinyCheckpoint.Prompt + " 12 + 35 = 47.\nStep 2:", 2, MaxTokens: 8) { Seed = 3 };
        Task<IReadOnlyList<Completion>>[] tasks;
        // Both loops held, so every request is in flight while the next one is routed.
        using (replicas.Engines[0].HoldLoop())
        using (replicas.Engines[1].HoldLoop())
        {
            var first = replicas.CompleteAsync(parent); // replica 0: nothing in flight anywhere
            var second = replicas.CompleteAsync(other); // replica 1: the least busy, and it shares no half of a prompt
            var third = replicas.CompleteAsync(child); // replica 0: its prompt extends the parent's, though both hold one
            tasks = [first, second, third];
        }
        await Task.WhenAll(tasks);
        Assert.Equal([2L, 1L], replicas.RequestsRouted);
    }

    [Fact]
    public async Task AReplicaTooFarAheadInLoadLosesItsPromptsExtensions()
    {
        using var replicas = EngineReplicas.Load(checkpoint.Path, replicas: 2);
        Task<IReadOnlyList<Completion>>[] tasks;
        using (replicas.Engines[0].HoldLoop())
        using (replicas.Engines[1].HoldLoop())
        {
            // Extensions of one prompt: the first two stay together; the third would put replica 0 two requests ahead
            // of replica 1 (AffinitySlack), so replica 1 takes it.
            tasks = [.. Enumerable.Range(0, 3).Select(i => replicas.CompleteAsync(
                new CompletionRequest(TinyCheckpoint.Prompt + new string(' ', i), 1, MaxTokens: 4) { Seed = i }))];
        }
        await Task.WhenAll(tasks);
        Assert.Equal([2L, 1L], replicas.RequestsRouted);
    }

    [Fact]
    public void TheAutomaticCountIsOnePerWorkerUpToOnePerCoreForASmallModelOnACpu()
    {
        const long small = 3_300_000, large = EngineReplicas.SmallModelWeights + 1;
        Assert.Equal(1, EngineReplicas.AutoCount(1, TorchSharp.torch.CPU, small));
        Assert.Equal(Math.Min(4, Environment.ProcessorCount), EngineReplicas.AutoCount(4, null, small));
        Assert.Equal(Environment.ProcessorCount, EngineReplicas.AutoCount(1000, TorchSharp.torch.CPU, small));
        Assert.Equal(1, EngineReplicas.AutoCount(4, TorchSharp.torch.CPU, large));
        Assert.Equal(1, EngineReplicas.AutoCount(4, new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA), small));
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineReplicas.Load(checkpoint.Path, replicas: 0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AConfigsMatrixWeightsAreTheModelsParametersLessItsNorms(bool tied)
    {
        // Llama without biases: every parameter is a matrix but the 2 norms per layer and the final one.
        using var model = Models.TinyModels.Create(Models.TinyModels.Config(tied: tied), seed: 1);
        var c = model.Config;
        Assert.Equal(model.ParameterCount() - (2L * c.NumHiddenLayers + 1) * c.HiddenSize, c.MatrixWeights);
    }
}
