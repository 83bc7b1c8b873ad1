//! Pagination of list results.

/// Which page of a list to return (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
}

/// Why a page request is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("page and page size must be positive")]
pub struct InvalidPage;

impl PageRequest {
    /// A page request; both numbers start at 1.
    ///
    /// # Errors
    /// [`InvalidPage`] when either is zero.
    pub fn new(page: u64, per_page: u64) -> Result<Self, InvalidPage> {
        if page == 0 || per_page == 0 {
            return Err(InvalidPage);
        }
        Ok(Self { page, per_page })
    }

    /// The page number.
    pub fn page(self) -> u64 {
        self.page
    }

    /// The page size.
    pub fn per_page(self) -> u64 {
        self.per_page
    }

    /// How many items come before the page.
    pub fn offset(self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// How many pages `total` items fill.
    pub fn pages_for(self, total: u64) -> u64 {
        total.div_ceil(self.per_page)
    }

    /// Cuts one page out of a full list.
    pub fn slice<T>(self, items: Vec<T>) -> Paged<T> {
        let pages = self.pages_for(items.len() as u64);
        let offset = usize::try_from(self.offset()).unwrap_or(usize::MAX);
        let per_page = usize::try_from(self.per_page).unwrap_or(usize::MAX);
        let items = items.into_iter().skip(offset).take(per_page).collect();
        Paged {
            items,
            pages: Some(pages),
        }
    }
}

/// A list result, with the page count when it was paginated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items of the page (or all of them).
    pub items: Vec<T>,
    /// Total pages, when a page was asked for.
    pub pages: Option<u64>,
}

impl<T> Paged<T> {
    /// A whole, unpaginated list.
    pub fn all(items: Vec<T>) -> Self {
        Self { items, pages: None }
    }

    /// Applies an optional page request to a full list.
    pub fn from_list(items: Vec<T>, page: Option<PageRequest>) -> Self {
        match page {
            Some(page) => page.slice(items),
            None => Self::all(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cut_lists_like_the_reference() {
        let p = PageRequest::new(1, 1).unwrap();
        assert_eq!(
            p.slice(vec![1, 2]),
            Paged {
                items: vec![1],
                pages: Some(2)
            }
        );
        let p = PageRequest::new(100, 100).unwrap();
        assert_eq!(
            p.slice(vec![1, 2]),
            Paged {
                items: vec![],
                pages: Some(1)
            }
        );
        assert_eq!(PageRequest::new(0, 5), Err(InvalidPage));
    }
}
