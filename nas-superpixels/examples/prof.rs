#[path = "../tests/support/mod.rs"]
mod support;
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let name = std::env::args().nth(2).unwrap_or("motorcycle.png".into());
    let img = support::load_rgb(&support::shared_dir().join("images").join(name));
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = std::time::Instant::now();
        if which == "slic" {
            let _ = nas_superpixels::slic(img.view(), &Default::default());
        } else {
            let _ = nas_superpixels::felzenszwalb(img.view(), &Default::default());
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("{which}: min {best:.1} ms/call");
}
