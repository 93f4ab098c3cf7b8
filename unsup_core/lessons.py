"""Built-in lessons: a few Train links each, with what to try and what to look for.

A lesson is data: adding one is adding one ``Lesson`` to ``LESSONS``. Its links are query strings in
the format of :mod:`unsup_core.form_links`, and every claim its text makes is checked by a test that
runs those links' setups through the library with the same seeds (tests/test_lessons.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from unsup_core.form_links import FormLink, decode


@dataclass(frozen=True)
class LessonLink:
    label: str  # what the link opens, e.g. "k-means"
    query: str  # "dataset=moons&algorithm=kmeans&..."

    def form_link(self) -> FormLink:
        """The validated setup; a lesson link that does not validate is a bug, so this raises."""
        decoded = decode(dict(parse_qsl(self.query, keep_blank_values=True)))
        if decoded.link is None or decoded.problem:
            raise ValueError(f"lesson link {self.label!r} is not a valid setup: {decoded.problem}")
        return decoded.link


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    links: tuple[LessonLink, ...]
    try_this: str  # markdown, a few sentences
    look_for: str  # markdown: the claims the tests check

    def link(self, label: str) -> LessonLink:
        return next(link for link in self.links if link.label == label)


_MOONS = "dataset=moons&data.noise=0.06&data.seed=0"
_RING = "dataset=ring8&data.seed=0"
_VAE = "dataset=digits&algorithm=vae&latent_dim=8&eval_every=0&steps=300&seed=0&fix=latent_dim"
_EMBED = "dataset=digits&algorithm=embedding&max_rows=1000&seed=0"
_ANOMALIES = "dataset=digits_anomalies&data.share=0.03&data.seed=0&algorithm=outliers&share=0.03&seed=0"

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "moons", "Clusters that are not round",
        (LessonLink("k-means", f"{_MOONS}&algorithm=kmeans&n_clusters=2&steps=100&seed=0&fix=dataset,n_clusters"),
         LessonLink("spectral", f"{_MOONS}&algorithm=spectral&n_clusters=2&seed=0&fix=dataset,n_clusters"),
         LessonLink("DBSCAN", f"{_MOONS}&algorithm=dbscan&min_samples=10&seed=0&fix=dataset")),
        "Train k-means with k = 2 on the two moons, then the same points with spectral clustering and with "
        "DBSCAN. Then lower DBSCAN's `min_samples` to 5.",
        "k-means cuts each moon in two with a straight border (ARI about 0.3): it only compares distances "
        "to two centres. Spectral clustering, which follows a graph of nearest neighbours, and DBSCAN, which "
        "follows dense regions, trace each moon (ARI above 0.9). With `min_samples` 5, DBSCAN breaks the "
        "moons into more than two pieces: density methods need their neighbourhood size tuned."),
    Lesson(
        "gan-modes", "Mode collapse, and a GAN that covers the ring",
        (LessonLink("GAN", f"{_RING}&algorithm=gan&latent_dim=1&learning_rate=0.003&batch_size=32"
                           "&eval_every=100&steps=1500&seed=0"),
         LessonLink("WGAN-GP", f"{_RING}&algorithm=wgan_gp&latent_dim=8&hidden_dim=64&batch_size=128"
                               "&learning_rate=0.001&eval_every=100&steps=1500&seed=0")),
        "Train the GAN (one noise number, small batches, a fast learning rate: the classic recipe for "
        "collapse) and watch its samples in the GAN Lab view; then train WGAN-GP on the same 8 Gaussians.",
        "The GAN's samples pile onto a few of the 8 modes and hop between them: `modes_covered` stays at 3 or "
        "fewer over its last evaluations. WGAN-GP's critic keeps a useful gradient everywhere, and by the end "
        "its samples cover 7 or all 8 modes."),
    Lesson(
        "vae-beta", "Posterior collapse as β grows",
        (LessonLink("β = 1", f"{_VAE}&beta=1"), LessonLink("β = 0.5", f"{_VAE}&beta=0.5"),
         LessonLink("β = 2", f"{_VAE}&beta=2"), LessonLink("β = 4", f"{_VAE}&beta=4")),
        "Train the VAE on digits with an 8-number latent code at β = 0.5, 1, 2 and 4, and compare the "
        "\"KL per latent dimension\" bars and the samples.",
        "β weighs the KL term that pulls each code towards the prior. As β grows the total KL falls at "
        "every step of the sweep, fewer dimensions carry information, and at β = 4 every dimension's KL is "
        "near 0 nats: the decoder ignores the code (posterior collapse) and every sample looks alike. At "
        "β = 0.5 at least three dimensions stay active."),
    Lesson(
        "som-digits", "A self-organizing map unfolds over digits",
        (LessonLink("SOM", "dataset=digits&algorithm=som&rows=10&cols=10&steps=200&seed=0&fix=rows,cols"),),
        "Train a 10 x 10 map on the handwritten digits and drag the timeline from the first snapshot to "
        "the last: look at the prototypes, the U-matrix and where each digit lands.",
        "The quantization error (mean distance from a digit to its best unit) falls by a fifth or more as "
        "the neighbourhood shrinks, and the topographic error (a digit's two best units not adjacent) ends "
        "below 5%: neighbouring units hold similar digits, so the map is a smooth picture of the data."),
    Lesson(
        "choose-k", "How many clusters?",
        (LessonLink("choose k", "dataset=blobs&data.n_blobs=5&data.seed=0&algorithm=choose_k&k_min=2&k_max=10"
                                "&seed=0&hide=data.n_blobs"),),
        "The number of blobs is hidden in this link. Train, then read the inertia elbow, the silhouette, "
        "Davies-Bouldin, Calinski-Harabasz and the mixture's BIC across k = 2 to 10.",
        "The criteria agree, and the recommendation is k = 5, the number of blobs the data was made "
        "with. Try k-means with k = 4 and k = 6 afterwards to see what a wrong k does."),
    Lesson(
        "few-labels", "A few labels plus many unlabelled points",
        (LessonLink("label spreading", "dataset=digits&algorithm=semi_supervised&method=label_spreading"
                                       "&labels_per_class=3&steps=7&seed=0"),),
        "Train label spreading on digits: each step gives it 1, 2, 3, 5, 10, 20, then 50 labels per class, and "
        "scores it against logistic regression trained on the labelled digits alone.",
        "Using the unlabelled digits wins at every budget, by 5 points of accuracy or more with 2 to 5 labels "
        "per class; the gap narrows once there are 50 labels per class, when labels alone are enough."),
    Lesson(
        "anomalies", "Finding planted anomalies",
        (LessonLink("isolation forest", f"{_ANOMALIES}&method=isolation_forest&fix=dataset"),
         LessonLink("LOF", f"{_ANOMALIES}&method=lof&fix=dataset")),
        "3% of these digits are planted anomalies (noise, rotated or inverted). Flag the 3% most unusual with "
        "an isolation forest, then with the local outlier factor (LOF).",
        "The isolation forest finds them: more than 90% of what it flags was planted. LOF, which compares "
        "each point's density with its neighbours', gets fewer than half right here: look at which planted "
        "digits it misses, and ask why a group of similar anomalies can look normal to a local method."),
    Lesson(
        "maps", "PCA, t-SNE and UMAP on the same digits",
        (LessonLink("PCA", f"{_EMBED}&method=pca"), LessonLink("t-SNE", f"{_EMBED}&method=tsne"),
         LessonLink("UMAP", f"{_EMBED}&method=umap")),
        "Embed the same 1,000 digits in 2-D with PCA, t-SNE and UMAP and compare the maps, coloured by the "
        "true digit.",
        "PCA, a linear projection, overlaps most digits: a point's 5 nearest neighbours on its map share its "
        "label less than 70% of the time. t-SNE and UMAP keep neighbourhoods and give ten separate islands, "
        "with above 90% agreement; distances between islands mean little on those maps."),
)


def get_lesson(slug: str) -> Lesson:
    return next(lesson for lesson in LESSONS if lesson.slug == slug)
