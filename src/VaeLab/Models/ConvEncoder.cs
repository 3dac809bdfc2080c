using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A small convolutional encoder for 1×28×28 images: two stride-2 4×4 convolutions (32 and 64 channels,
/// 28 → 14 → 7), a 256-unit ReLU layer, then a linear head giving the posterior's parameters ([μ, log σ²] for a diagonal Gaussian).
/// </summary>
public sealed class ConvEncoder : Encoder
{
    readonly Sequential net;

    /// <summary>Creates the encoder for single-channel 28×28 images.</summary>
    /// <param name="latentDimensions">Latent size d.</param>
    /// <param name="outputSize">Numbers per example, the posterior family's parameter count (null: 2d).</param>
    public ConvEncoder(long latentDimensions, long? outputSize = null) : base(nameof(ConvEncoder), latentDimensions, outputSize)
    {
        net = nn.Sequential(
            ("conv0", nn.Conv2d(1, 32, 4, stride: 2, padding: 1)),
            ("relu0", nn.ReLU()),
            ("conv1", nn.Conv2d(32, 64, 4, stride: 2, padding: 1)),
            ("relu1", nn.ReLU()),
            ("flatten", nn.Flatten()),
            ("linear", nn.Linear(64 * 7 * 7, 256)),
            ("relu2", nn.ReLU()),
            ("head", nn.Linear(256, OutputSize)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override string Signature => $"conv-encoder(1x28x28-32-64-256-{LatentDimensions}){OutputSuffix}";

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => net.forward(x.view(-1, 1, 28, 28));
}
