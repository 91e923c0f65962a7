/// Rows per page when a request does not say.
pub const DEFAULT_PER_PAGE: usize = 50;
/// The most rows one page may hold.
pub const MAX_PER_PAGE: usize = 500;

/// Which page of a list to answer: `page` from 1, `per_page` from 1 to [`MAX_PER_PAGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    page: usize,
    per_page: usize,
}

impl PageRequest {
    /// A valid request, or `None` when `page` is 0 or `per_page` is outside 1..=500.
    pub fn new(page: usize, per_page: usize) -> Option<Self> {
        (page >= 1 && (1..=MAX_PER_PAGE).contains(&per_page)).then_some(PageRequest { page, per_page })
    }

    /// The page number, from 1.
    pub fn page(self) -> usize {
        self.page
    }

    /// Rows per page.
    pub fn per_page(self) -> usize {
        self.per_page
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

/// One page of a list and where it stands in the whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows in the whole filtered list.
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

impl<T> Page<T> {
    /// Cuts one page out of the whole list. A page past the end is empty.
    pub fn of(all: Vec<T>, request: PageRequest) -> Page<T> {
        let total = all.len();
        let start = (request.page - 1).saturating_mul(request.per_page).min(total);
        let items = all.into_iter().skip(start).take(request.per_page).collect();
        Page { items, total, page: request.page, per_page: request.per_page }
    }

    /// How many pages the whole list fills (at least 1).
    pub fn page_count(&self) -> usize {
        self.total.div_ceil(self.per_page).max(1)
    }

    /// The 1-based position of the first row on this page (0 when empty).
    pub fn first_row(&self) -> usize {
        if self.items.is_empty() { 0 } else { (self.page - 1) * self.per_page + 1 }
    }

    /// The 1-based position of the last row on this page (0 when empty).
    pub fn last_row(&self) -> usize {
        if self.items.is_empty() { 0 } else { self.first_row() + self.items.len() - 1 }
    }

    /// Maps the rows, keeping the position.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cut_at_the_edges() {
        let all: Vec<u32> = (1..=120).collect();
        let p = Page::of(all.clone(), PageRequest::new(3, 50).unwrap());
        assert_eq!((p.items.len(), p.first_row(), p.last_row(), p.page_count()), (20, 101, 120, 3));
        let p = Page::of(all.clone(), PageRequest::new(4, 50).unwrap());
        assert!(p.items.is_empty());
        assert_eq!((p.total, p.first_row()), (120, 0));
        let p = Page::of(Vec::<u32>::new(), PageRequest::default());
        assert_eq!(p.page_count(), 1);
        assert!(PageRequest::new(0, 50).is_none());
        assert!(PageRequest::new(1, 0).is_none());
        assert!(PageRequest::new(1, 501).is_none());
        assert!(PageRequest::new(usize::MAX, 500).is_some());
        let p = Page::of(all, PageRequest::new(usize::MAX, 500).unwrap());
        assert!(p.items.is_empty());
    }
}
